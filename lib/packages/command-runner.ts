/**
 * Where device-side commands run. `SSHHost` (server/hosts) has exactly this shape; `LocalRunner` runs the same
 * POSIX sh commands on this machine, which makes the packaging core testable without a device and lets the client
 * install packages into its own tree.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { AutotestError } from '../errors.js';

export interface RunOptions {
  /** Seconds before the command is killed (as `SSHHost.run`). */
  timeout?: number;
  /** Resolve with the exit status instead of throwing when it is not 0. */
  ignoreStatus?: boolean;
  /** Bytes written to the command's stdin. */
  stdin?: string | Buffer;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitStatus: number;
}

export interface CommandRunner {
  /** Runs a POSIX sh command line on the device. */
  run(command: string, options?: RunOptions): Promise<RunResult>;
  /** Copies a file from the server to the device; without it, files travel through `cat` on stdin. */
  sendFile?(local: string, remote: string): Promise<void>;
}

/** Runs commands on this machine with `sh -c`. */
export class LocalRunner implements CommandRunner {
  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const result = await execa('sh', ['-c', command], {
      reject: false,
      timeout: options.timeout === undefined ? undefined : options.timeout * 1000,
      input: options.stdin,
      stripFinalNewline: false,
      encoding: 'utf8',
    });
    // A command killed by a signal has no exit code: report it as a shell would (128 + signal number).
    const exitStatus =
      typeof result.exitCode === 'number' ? result.exitCode : 128 + signalNumber(result.signal);
    const outcome = { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), exitStatus };
    if (exitStatus !== 0 && !options.ignoreStatus) {
      throw new AutotestError(
        'ERR_COMMAND_FAILED',
        `Command exited with status ${exitStatus}${result.timedOut ? ' (timed out)' : ''}: ${command}\n${outcome.stderr}`,
      );
    }
    return outcome;
  }

  async sendFile(local: string, remote: string): Promise<void> {
    await mkdir(dirname(remote), { recursive: true });
    await copyFile(local, remote);
  }
}

function signalNumber(signal: string | undefined): number {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return (signal && numbers[signal]) || 1;
}

/** Quotes one word for POSIX sh. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
