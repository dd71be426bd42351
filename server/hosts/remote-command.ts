/**
 * Running one command on an open SSH connection. sshd starts every command as the leader of a new session,
 * so the login shell's `$$` names the session and process group of everything the command starts. The wrapper
 * prints that id on stderr before the command runs; on a timeout or an abort we open a second channel and kill
 * the whole session, which closing the channel alone would not do (without a tty nothing gets SIGHUP).
 */
import { constants } from 'node:os';
import type { Client, ClientChannel } from 'ssh2';
import { AutotestError } from '../../lib/errors.js';

/** Marks the wrapper's line on stderr; a control character no command prints by accident. */
export const PID_MARKER = '\u001eAUTOTEST_PID=';

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The command line sent to sshd: report the session id, export the environment, then the caller's command. */
export function wrapCommand(command: string, env: Readonly<Record<string, string>> = {}): string {
  const exports = Object.entries(env).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new AutotestError(
        'ERR_HOST_RUN_OPTIONS',
        `env name "${name}" is not a shell variable name; use letters, digits and _`,
      );
    }
    return `export ${name}=${shellQuote(value)};`;
  });
  return [`printf '\\036AUTOTEST_PID=%s\\n' "$$" >&2;`, ...exports, '\n', command].join(' ');
}

export interface RawOutcome {
  stdout: string;
  stderr: string;
  /** Exit status, 128 + signal number when killed by a signal; undefined when the connection dropped first. */
  exitStatus: number | undefined;
  /** Why the command was stopped by us, if it was. */
  stopped?: 'timeout' | 'abort';
}

/** 128 + N for signal N, as a shell reports a command a signal killed; ssh2 names the signal `SIGKILL` etc. */
function signalStatus(signalName: string | undefined): number {
  const signals = constants.signals as Record<string, number | undefined>;
  return 128 + (signals[signalName ?? ''] ?? signals[`SIG${signalName}`] ?? 0);
}

/** How a command ended, recorded from the moment its channel opens. */
export interface ExitRecord {
  status?: number;
}

/**
 * Opens an exec channel. The exit listener is attached inside ssh2's callback: a fast command's exit-status can
 * arrive in the same packet batch as the channel's confirmation, before any later code could listen.
 */
export function openExec(
  client: Client,
  line: string,
): Promise<{ channel: ClientChannel; exit: ExitRecord }> {
  return new Promise((resolve, reject) =>
    client.exec(line, (error, channel) => {
      if (error) return reject(error);
      const exit: ExitRecord = {};
      channel.once('exit', (code: number | null, signalName?: string) => {
        exit.status = code ?? signalStatus(signalName);
      });
      resolve({ channel, exit });
    }),
  );
}

/** Kills the session whose leader is `pid`, then its process group (for processes that left the session's group). */
export async function killSession(client: Client, pid: number): Promise<void> {
  const { channel } = await openExec(client, `pkill -KILL -s ${pid}; kill -KILL -- -${pid} ${pid}; true`);
  await new Promise<void>((resolve) => {
    channel.once('close', () => resolve());
    channel.resume();
    channel.stderr.resume();
  });
}

export interface ExecuteOptions {
  readonly stdin?: string | Buffer;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Milliseconds to wait for the channel to close after a kill before giving up on it. */
const KILL_GRACE_MS = 10_000;

/** Runs the wrapped line and collects its output; never throws for the command's own failure. */
export function executeOnChannel(
  client: Client,
  { channel, exit }: { channel: ClientChannel; exit: ExitRecord },
  options: ExecuteOptions,
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let head = Buffer.alloc(0);
    let headDone = false;
    let pid: number | undefined;
    let stopped: RawOutcome['stopped'];
    let done = false;
    let graceTimer: NodeJS.Timeout | undefined;

    channel.on('data', (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on('data', (chunk: Buffer) => {
      if (headDone) {
        stderr.push(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const newline = head.indexOf(10);
      if (newline < 0 && head.length < 64) return;
      headDone = true;
      const first = head.subarray(0, newline < 0 ? head.length : newline).toString('latin1');
      if (first.startsWith(PID_MARKER)) {
        pid = Number(first.slice(PID_MARKER.length));
        stderr.push(head.subarray(newline + 1));
      } else {
        stderr.push(head);
      }
      if (stopped) {
        clearTimeout(graceTimer);
        kill();
      }
    });

    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      options.signal?.removeEventListener('abort', onAbort);
      client.removeListener('close', finish);
      if (!headDone) stderr.push(head);
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        exitStatus: exit.status,
        ...(stopped ? { stopped } : {}),
      });
    };
    const kill = (): void => {
      const target = pid !== undefined && Number.isInteger(pid) && pid > 1 ? pid : undefined;
      (target === undefined ? Promise.resolve() : killSession(client, target))
        .catch(() => {
          // The connection may be gone too; closing the channel is all that is left to do.
        })
        .finally(() => {
          channel.close();
          graceTimer = setTimeout(finish, KILL_GRACE_MS);
        });
    };
    const stop = (why: 'timeout' | 'abort'): void => {
      if (stopped || done) return;
      stopped = why;
      // Before the wrapper's first line arrives there is no session id yet: kill as soon as it does.
      if (!headDone) graceTimer = setTimeout(kill, KILL_GRACE_MS);
      else kill();
    };
    const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
    const onAbort = (): void => stop('abort');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    client.once('close', finish);
    channel.once('close', finish);

    if (options.stdin !== undefined) channel.end(options.stdin);
    else channel.end();
    if (options.signal?.aborted) stop('abort');
  });
}
