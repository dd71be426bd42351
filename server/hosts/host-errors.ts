/**
 * Errors of the host layer. Each names the host (and the command, when there is one) so a line in a job's log
 * is enough to know which device failed and how. Match on `code`.
 */
import { AutotestError, type AutotestErrorOptions } from '../../lib/errors.js';
import type { CommandResult } from './command-result.js';

/** How much of stderr an error message quotes: the end is where the reason usually is. */
const STDERR_TAIL_CHARS = 800;

function tail(text: string): string {
  const trimmed = text.trimEnd();
  return trimmed.length <= STDERR_TAIL_CHARS ? trimmed : `…${trimmed.slice(-STDERR_TAIL_CHARS)}`;
}

/** A command ran and exited with a non-zero status (and `ignoreStatus` was not set). */
export class HostRunError extends AutotestError {
  readonly hostname: string;
  readonly result: CommandResult;
  constructor(hostname: string, result: CommandResult, options?: AutotestErrorOptions) {
    const stderr = tail(result.stderr);
    super(
      'ERR_HOST_RUN',
      `Command \`${result.command}\` on ${hostname} failed with exit status ${result.exitStatus}` +
        (stderr ? `; end of stderr:\n${stderr}` : ' and printed nothing on stderr') +
        '\nPass ignoreStatus: true to get the result instead of this error.',
      options,
    );
    this.hostname = hostname;
    this.result = result;
  }
}

/** A command ran longer than its timeout; its remote process group was killed. */
export class HostTimeoutError extends AutotestError {
  readonly hostname: string;
  readonly command: string;
  readonly timeoutSec: number;
  /** What the command printed before it was killed. */
  readonly stdout: string;
  readonly stderr: string;
  constructor(
    hostname: string,
    command: string,
    timeoutSec: number,
    output: { stdout: string; stderr: string },
    options?: AutotestErrorOptions,
  ) {
    const stderr = tail(output.stderr);
    super(
      'ERR_HOST_TIMEOUT',
      `Command \`${command}\` on ${hostname} timed out after ${timeoutSec} s and was killed with its process group` +
        (stderr ? `; end of stderr:\n${stderr}` : '') +
        '\nRaise the timeout option if the command needs longer.',
      options,
    );
    this.hostname = hostname;
    this.command = command;
    this.timeoutSec = timeoutSec;
    this.stdout = output.stdout;
    this.stderr = output.stderr;
  }
}

/** The host could not be reached, refused us, or the connection dropped while a command was running. */
export class HostUnreachableError extends AutotestError {
  readonly hostname: string;
  constructor(hostname: string, message: string, options?: AutotestErrorOptions) {
    super('ERR_HOST_UNREACHABLE', `${hostname}: ${message}`, options);
    this.hostname = hostname;
  }
}

/** The host presented a key that differs from the one recorded for it in known_hosts (or one marked @revoked). */
export class HostKeyMismatchError extends AutotestError {
  readonly hostname: string;
  readonly fingerprint: string;
  constructor(hostname: string, message: string, fingerprint: string, options?: AutotestErrorOptions) {
    super('ERR_HOST_KEY_MISMATCH', message, options);
    this.hostname = hostname;
    this.fingerprint = fingerprint;
  }
}

/** The host's key is in no known_hosts file and accepting new keys was not asked for. */
export class HostKeyUnknownError extends AutotestError {
  readonly hostname: string;
  readonly fingerprint: string;
  constructor(hostname: string, message: string, fingerprint: string, options?: AutotestErrorOptions) {
    super('ERR_HOST_KEY_UNKNOWN', message, options);
    this.hostname = hostname;
    this.fingerprint = fingerprint;
  }
}

/** No usable private key was found, or the host refused every key we offered. */
export class HostAuthError extends AutotestError {
  readonly hostname: string;
  constructor(hostname: string, message: string, options?: AutotestErrorOptions) {
    super('ERR_HOST_AUTH', `${hostname}: ${message}`, options);
    this.hostname = hostname;
  }
}

/** A file transfer over SFTP failed. */
export class HostTransferError extends AutotestError {
  readonly hostname: string;
  constructor(hostname: string, message: string, options?: AutotestErrorOptions) {
    super('ERR_HOST_TRANSFER', `${hostname}: ${message}`, options);
    this.hostname = hostname;
  }
}

/** The host did not go down, or did not come back with a new boot id, within the reboot's time limits. */
export class HostRebootError extends AutotestError {
  readonly hostname: string;
  constructor(hostname: string, message: string, options?: AutotestErrorOptions) {
    super('ERR_HOST_REBOOT', `${hostname}: ${message}`, options);
    this.hostname = hostname;
  }
}

/** A method was called after `close()`. */
export class HostClosedError extends AutotestError {
  constructor(hostname: string) {
    super(
      'ERR_HOST_CLOSED',
      `${hostname}: the host object was closed; create a new one with hosts.createHost()`,
    );
  }
}
