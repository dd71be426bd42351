/**
 * A device reached over SSH: run commands, move files, watch it go down and come back. One connection per
 * host is shared by every call and opened again when it drops.
 */
import type { Client, SFTPWrapper } from 'ssh2';
import { AutotestError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logging.js';
import type { CommandResult, RunOptions } from './command-result.js';
import {
  HostClosedError,
  HostRunError,
  HostTimeoutError,
  HostTransferError,
  HostUnreachableError,
} from './host-errors.js';
import type { ResolvedHostOptions } from './host-options.js';
import { rebootHost, waitDown, waitUp, type RebootOptions } from './host-power.js';
import { executeOnChannel, openExec, wrapCommand, type RawOutcome } from './remote-command.js';
import { ShellChannel } from './shell-channel.js';
import { getPaths, type FetchLimits } from './sftp-fetch.js';
import { sendPaths } from './sftp-transfer.js';
import { SSHConnection, type ConnectionTarget } from './ssh-connection.js';

export type { CommandResult, RunOptions } from './command-result.js';

/** @default timeout of `run`, in seconds (autotest's one hour). */
const DEFAULT_TIMEOUT_SEC = 3600;

export class SSHHost {
  /** `user@host:port` as messages and logs name it (user and port only when not root and 22). */
  readonly hostname: string;
  /** The address or name connected to. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  private readonly connection: SSHConnection;
  private readonly logger: Logger;
  private closed = false;
  private readonly persistentShell: boolean | 'sh';
  private shell: ShellChannel | undefined;
  private shellOpening: Promise<ShellChannel | undefined> | undefined;
  /** The connection on which the shell could not be set up: it is not tried again there. */
  private shellRefusedBy: Client | undefined;

  constructor(target: { host: string; port: number; user: string }, options: ResolvedHostOptions) {
    this.host = target.host;
    this.port = target.port;
    this.user = target.user;
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    this.hostname = `${target.user === 'root' ? '' : `${target.user}@`}${host}${target.port === 22 ? '' : `:${target.port}`}`;
    const connectionTarget: ConnectionTarget = { ...target, hostname: this.hostname };
    this.connection = new SSHConnection(connectionTarget, options);
    this.logger = options.logger.child({ host: this.hostname });
    this.persistentShell = options.persistentShell;
  }

  /** How many times the connection was established; above 1 when it dropped and was opened again. */
  get connectCount(): number {
    return this.connection.connectCount;
  }

  /** Opens the connection now (checking the host key and the login) instead of at the first call. */
  async connect(): Promise<void> {
    this.assertOpen();
    await this.connection.get();
  }

  /**
   * Runs a shell command. Resolves with its output, exit status and duration; a non-zero status throws
   * `HostRunError` unless `ignoreStatus` is set. On timeout every process of the command is killed on the
   * device and `HostTimeoutError` is thrown.
   * @example const { stdout } = await host.run('uname -r', { timeout: 30 });
   */
  async run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    this.assertOpen();
    const timeoutSec = options.timeout ?? DEFAULT_TIMEOUT_SEC;
    if (!(typeof timeoutSec === 'number' && timeoutSec > 0)) {
      throw new AutotestError(
        'ERR_HOST_RUN_OPTIONS',
        `Expected timeout to be a positive number of seconds, got ${String(timeoutSec)}`,
      );
    }
    options.signal?.throwIfAborted();
    const line = wrapCommand(command, options.env);
    this.logger.debug({ command, timeoutSec }, 'run');
    const started = performance.now();
    const timing = { timeoutMs: timeoutSec * 1000, ...(options.signal ? { signal: options.signal } : {}) };
    // Commands with stdin, or arriving while the shell is busy, take an exec channel of their own.
    const shell = options.stdin === undefined ? await this.idleShell() : undefined;
    let client: Client;
    let outcome: RawOutcome;
    let usedShell: ShellChannel | undefined;
    if (shell && !shell.busy && !shell.broken) {
      usedShell = shell;
      client = shell.client;
      outcome = await shell.run(line, timing);
    } else {
      const channel = await this.openChannel(line);
      client = channel.client;
      outcome = await executeOnChannel(client, channel.opened, {
        ...timing,
        ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
      });
    }
    const durationMs = Math.round(performance.now() - started);
    if (outcome.stopped === 'abort') throw options.signal?.reason;
    if (outcome.stopped === 'timeout') {
      this.logger.warn({ command, timeoutSec }, 'command timed out; killed its process group');
      throw new HostTimeoutError(this.hostname, command, timeoutSec, outcome);
    }
    if (outcome.exitStatus === undefined && usedShell?.connectionAlive) {
      throw new HostUnreachableError(
        this.hostname,
        `the persistent shell ended while running \`${command}\`; the next call opens a new one`,
      );
    }
    if (outcome.exitStatus === undefined) {
      this.connection.drop(client);
      throw new HostUnreachableError(
        this.hostname,
        `the connection dropped while running \`${command}\`; the next call connects again`,
      );
    }
    const result: CommandResult = {
      command,
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      exitStatus: outcome.exitStatus,
      durationMs,
    };
    this.logger.debug({ command, exitStatus: result.exitStatus, durationMs }, 'ran');
    if (result.exitStatus !== 0 && !options.ignoreStatus) throw new HostRunError(this.hostname, result);
    return result;
  }

  /**
   * Sends local files or folders, keeping their permission bits. Into `remote` when it is an existing folder,
   * else to `remote` itself; `dir/` sends the folder's contents.
   */
  async sendFile(local: string | readonly string[], remote: string): Promise<void> {
    const sources = typeof local === 'string' ? [local] : local;
    this.logger.debug({ sources, remote }, 'send');
    await this.withSftp(`send ${sources.join(' ')} to ${remote}`, (sftp) => sendPaths(sftp, sources, remote));
  }

  /**
   * Fetches remote files or folders, keeping their permission bits (not setuid/setgid); same destination rules
   * as `sendFile`. The device's names are checked, links are not followed, and `limits` bound the tree.
   */
  async getFile(remote: string | readonly string[], local: string, limits?: FetchLimits): Promise<void> {
    const sources = typeof remote === 'string' ? [remote] : remote;
    this.logger.debug({ sources, local }, 'get');
    await this.withSftp(`get ${sources.join(' ')} into ${local}`, (sftp) =>
      getPaths(sftp, sources, local, limits),
    );
  }

  /** The kernel's boot id, which changes at every boot. */
  async bootId(timeoutSec = 30): Promise<string> {
    return (await this.run('cat /proc/sys/kernel/random/boot_id', { timeout: timeoutSec })).stdout.trim();
  }

  /** True when a trivial command runs within `timeoutSec` (connecting first if needed). */
  async isUp(timeoutSec = 10): Promise<boolean> {
    this.assertOpen();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutSec * 1000);
    });
    const probe = this.run('true', { timeout: timeoutSec }).then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([probe, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Polls until the host answers; false when it did not within `timeoutSec`. @default 120 s */
  waitUp(timeoutSec = 120): Promise<boolean> {
    return waitUp(this, timeoutSec);
  }

  /** Polls until the host stops answering or answers with a boot id other than `oldBootId`. @default 120 s */
  waitDown(timeoutSec = 120, oldBootId?: string): Promise<boolean> {
    return waitDown(this, timeoutSec, oldBootId);
  }

  /** Reboots and waits for the host to come back with a new boot id; throws `HostRebootError` otherwise. */
  reboot(options: RebootOptions = {}): Promise<void> {
    return rebootHost(this, this.logger, options);
  }

  /** Closes the connection; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shell?.close();
    this.connection.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new HostClosedError(this.hostname);
  }

  /**
   * The long-lived shell when `persistentShell` is on and it is free, opened on first use and again after it broke
   * or the connection changed; undefined when busy, being opened, or refused on this connection.
   */
  private async idleShell(): Promise<ShellChannel | undefined> {
    if (!this.persistentShell) return undefined;
    const client = await this.connection.get();
    if (this.shell && (this.shell.broken || this.shell.client !== client)) {
      this.shell.close();
      this.shell = undefined;
    }
    if (this.shell) return this.shell.busy ? undefined : this.shell;
    if (this.shellOpening || this.shellRefusedBy === client) return undefined;
    this.shellOpening = ShellChannel.open(client, this.persistentShell === 'sh' ? 'sh' : 'auto')
      .then(
        (shell) => (this.closed ? (shell.close(), undefined) : (this.shell = shell)),
        (error: unknown) => {
          this.shellRefusedBy = client;
          this.logger.debug({ err: error }, 'no persistent shell on this connection; using exec channels');
          return undefined;
        },
      )
      .finally(() => {
        this.shellOpening = undefined;
      });
    return this.shellOpening;
  }

  /** Opens an exec channel; a connection found dead at this point is opened again once, as nothing ran yet. */
  private async openChannel(
    line: string,
  ): Promise<{ client: Client; opened: Awaited<ReturnType<typeof openExec>> }> {
    for (let attempt = 1; ; attempt += 1) {
      const client = await this.connection.get();
      try {
        return { client, opened: await openExec(client, line) };
      } catch (error) {
        // A refused channel on a live connection (sshd's MaxSessions) carries a `reason`; that is not a drop.
        if ((error as { reason?: unknown }).reason !== undefined) {
          throw new HostUnreachableError(
            this.hostname,
            `sshd refused a new session (${(error as Error).message}); too many commands at once?`,
            { cause: error },
          );
        }
        this.connection.drop(client);
        if (attempt >= 2)
          throw new HostUnreachableError(
            this.hostname,
            `cannot start a command: ${(error as Error).message}`,
            { cause: error },
          );
        this.logger.debug({ err: error }, 'connection found dead; connecting again');
      }
    }
  }

  private async withSftp(what: string, work: (sftp: SFTPWrapper) => Promise<void>): Promise<void> {
    this.assertOpen();
    let sftp: SFTPWrapper | undefined;
    for (let attempt = 1; !sftp; attempt += 1) {
      const client = await this.connection.get();
      try {
        sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
          client.sftp((error, s) => (error ? reject(error) : resolve(s))),
        );
      } catch (error) {
        // As in openChannel: a refusal on a live connection (no sftp subsystem) is final; anything else is a drop.
        if ((error as { reason?: unknown }).reason !== undefined) {
          throw new HostTransferError(
            this.hostname,
            `sshd refused SFTP to ${what} (${(error as Error).message})`,
            { cause: error },
          );
        }
        this.connection.drop(client);
        if (attempt >= 2)
          throw new HostUnreachableError(
            this.hostname,
            `cannot open SFTP to ${what}: ${(error as Error).message}`,
            { cause: error },
          );
      }
    }
    try {
      await work(sftp);
    } catch (error) {
      throw new HostTransferError(this.hostname, `cannot ${what}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      sftp.end();
    }
  }
}
