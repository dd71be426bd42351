/**
 * One long-lived `sh` per connection that runs short commands without sshd starting a new session each time
 * (opening an exec channel costs a round trip and sshd's session set-up: most of a short command).
 *
 * The shell makes three FIFOs once (F/o, F/e, F/s) and starts two reader loops that stay for its lifetime:
 *   while cat <F/o; do <stdout trailer>; done &
 *   while cat <F/e >&2; do read s <F/s; <stderr trailer with $s>; done &
 * Each command is then written to the shell's stdin as one line:
 *   setsid "$SHELL" -c '<wrapped>' </dev/null >F/o 2>F/e; echo $? >F/s
 * - The command runs under `setsid` in the login shell, as sshd would run it: its pid is its session id, which the
 *   wrapper reports on stderr, so a timeout kills the whole session exactly as on an exec channel.
 * - A reader's `cat` ends only when every process holding the command's stdout (or stderr), background ones too,
 *   closed it: as an exec channel closes only then. Its trailer follows, so the trailer always ends its stream.
 *   The readers fork their next `cat` while the caller is busy with the result, off the next command's path
 *   (a `cmd | cat` pipeline per command measured 1.5 to 2 ms slower).
 * - The status travels through F/s to the stderr reader, which writes it in its trailer after the output.
 * Trailers carry a random nonce per shell that commands never see.
 */
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel } from 'ssh2';
import { PERL_DRIVER } from './perl-driver.js';
import { killSession, PID_MARKER, shellQuote, type RawOutcome } from './remote-command.js';

/**
 * Milliseconds to wait for the trailers after the command's session was killed: killed processes close the FIFOs at
 * once, so a longer wait means a process that left the session holds them; the shell is then given up.
 */
const KILL_GRACE_MS = 2000;
/** Milliseconds the shell has to set itself up. */
const READY_TIMEOUT_MS = 15_000;

/** Bytes of one stream of one command, complete when they end with `trailer` (which is then cut off). */
class StreamUntil {
  private readonly chunks: Buffer[] = [];
  private tail: Buffer = Buffer.alloc(0);
  done = false;

  constructor(
    private readonly matches: (tail: Buffer) => boolean,
    private readonly trailerLength: number,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.tail =
      chunk.length >= this.trailerLength
        ? chunk.subarray(-this.trailerLength)
        : Buffer.concat([this.tail, chunk]).subarray(-this.trailerLength);
    if (this.tail.length === this.trailerLength && this.matches(this.tail)) this.done = true;
  }

  /** The bytes without the trailer (when done) or as received so far. */
  bytes(): Buffer {
    const all = Buffer.concat(this.chunks);
    return this.done ? all.subarray(0, all.length - this.trailerLength) : all;
  }

  /** The trailer itself, once done. */
  trailer(): Buffer {
    return this.tail;
  }
}

export interface ShellRunOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export class ShellChannel {
  /** True while a command runs; callers then use an exec channel instead of waiting. */
  busy = false;
  /** True once the shell is gone or was given up; the host opens a new one at the next command. */
  broken = false;
  private onStdout: (chunk: Buffer) => void = () => {};
  private onStderr: (chunk: Buffer) => void = () => {};
  private onEnd: () => void = () => {};

  /** The shell's pid: its session, with its readers, is killed when it is given up. */
  private pid: number | undefined;
  private clientClosed = false;
  /** Which program runs the commands: the perl driver (perl-driver.ts) or `sh` with FIFOs. */
  driver: 'perl' | 'sh' = 'sh';

  /** False once the connection under the shell closed (as opposed to the shell alone ending). */
  get connectionAlive(): boolean {
    return !this.clientClosed;
  }

  private constructor(
    readonly client: Client,
    private readonly channel: ClientChannel,
    private readonly nonce: string,
  ) {
    channel.on('data', (chunk: Buffer) => this.onStdout(chunk));
    channel.stderr.on('data', (chunk: Buffer) => this.onStderr(chunk));
    const end = (): void => {
      this.broken = true;
      this.onEnd();
    };
    // The shell's exit is enough: its `cat`s may still hold the channel open after it was killed.
    channel.once('exit', end);
    channel.once('close', end);
    client.once('close', () => {
      this.clientClosed = true;
      end();
    });
  }

  /**
   * Starts the driver on an exec channel (perl when the device has it and `driver` is 'auto', else `sh`) and waits
   * until it is ready; rejects when it cannot be set up.
   */
  static async open(client: Client, driver: 'auto' | 'sh' = 'auto'): Promise<ShellChannel> {
    const nonce = randomBytes(16).toString('hex');
    const perl = `command -v perl >/dev/null 2>&1 && exec perl -e ${shellQuote(PERL_DRIVER)} ${nonce}; `;
    const channel = await new Promise<ClientChannel>((resolve, reject) =>
      client.exec(`${driver === 'auto' ? perl : ''}exec sh -s`, (error, opened) =>
        error ? reject(error) : resolve(opened),
      ),
    );
    const shell = new ShellChannel(client, channel, nonce);
    const ready = Buffer.from(`\u001eREADY${nonce}\n`, 'latin1');
    const readyOn = (): StreamUntil => new StreamUntil((tail) => tail.equals(ready), ready.length);
    const out = readyOn();
    const err = readyOn();
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        shell.close();
        reject(new Error(why));
      };
      const timer = setTimeout(() => fail('the shell did not get ready'), READY_TIMEOUT_MS);
      // Output before the ready line (a login script's greeting) is dropped.
      const check = (): void => {
        if (!out.done || !err.done) return;
        clearTimeout(timer);
        const text = err.bytes().toString('latin1');
        const at = text.lastIndexOf('\u001ePID');
        const [pid, kind] = at < 0 ? [] : text.slice(at + 4, text.indexOf('\n', at)).split(' ');
        shell.pid = pid === undefined ? undefined : Number(pid);
        shell.driver = kind === 'perl' ? 'perl' : 'sh';
        shell.onStdout = shell.onStderr = shell.onEnd = () => {};
        resolve();
      };
      shell.onStdout = (chunk) => (out.push(chunk), check());
      shell.onStderr = (chunk) => (err.push(chunk), check());
      shell.onEnd = () => fail(`the shell exited while setting up: ${err.bytes().toString('utf8').trim()}`);
      const mark = `\\036${nonce}`;
      // SHLVL as sshd leaves it, so a bash login shell reads ~/.bashrc for each command as it does under sshd.
      // At exit the shell takes its readers along (`kill 0`: its own process group; commands have their own).
      channel.write(
        [
          'unset SHLVL',
          'F=$(mktemp -d "${TMPDIR:-/tmp}/autotest-shell.XXXXXX") && mkfifo "$F/o" "$F/e" "$F/s" || exit 1',
          `trap 'rm -rf "$F"; trap - TERM; kill 0' EXIT`,
          `(while cat <"$F/o"; do printf '${mark}\\n'; done) &`,
          `(while cat <"$F/e" >&2; do read s <"$F/s"; printf '${mark}%03d\\n' "$s" >&2; done) &`,
          `printf '\\036PID%s sh\\n' $$ >&2; printf '\\036READY${nonce}\\n'; printf '\\036READY${nonce}\\n' >&2`,
          // The perl driver skips the lines above up to this one, a comment for sh.
          '#END-SETUP',
          '',
        ].join('\n'),
      );
    });
    return shell;
  }

  /** Runs one wrapped command line (see `wrapCommand`); never throws for the command's own failure. */
  run(line: string, options: ShellRunOptions): Promise<RawOutcome> {
    if (this.busy || this.broken) throw new Error('the shell channel is busy or broken');
    this.busy = true;
    const nonce = this.nonce;
    const stdoutTrailer = Buffer.from(`\u001e${nonce}\n`, 'latin1');
    const stderrHead = Buffer.from(`\u001e${nonce}`, 'latin1');
    const out = new StreamUntil((tail) => tail.equals(stdoutTrailer), stdoutTrailer.length);
    // Trailer on stderr: marker, nonce, the status in three digits, newline.
    const err = new StreamUntil(
      (tail) => tail.subarray(0, stderrHead.length).equals(stderrHead) && tail[tail.length - 1] === 10,
      stderrHead.length + 4,
    );
    return new Promise((resolve) => {
      let head: Buffer = Buffer.alloc(0);
      let headDone = false;
      let pid: number | undefined;
      let stopped: RawOutcome['stopped'];
      let finished = false;
      let graceTimer: NodeJS.Timeout | undefined;

      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearTimeout(graceTimer);
        options.signal?.removeEventListener('abort', onAbort);
        this.onStdout = this.onStderr = this.onEnd = () => {};
        const complete = out.done && err.done;
        // A shell that did not bring the command to its trailers cannot be trusted with the next one.
        if (!complete) this.close();
        this.busy = false;
        const stderr = err.bytes();
        const status = complete
          ? Number(err.trailer().subarray(stderrHead.length, -1).toString('latin1'))
          : undefined;
        resolve({
          stdout: out.bytes().toString('utf8'),
          stderr: (headDone ? stderr.subarray(head.length) : stderr).toString('utf8'),
          exitStatus: status,
          ...(stopped ? { stopped } : {}),
        });
      };
      const readHead = (): void => {
        // The wrapper's first stderr line carries the command's session id; it is cut from the output.
        if (headDone) return;
        const soFar = err.bytes();
        const newline = soFar.indexOf(10);
        if (newline < 0 && soFar.length < 64 && !err.done) return;
        headDone = true;
        const first = soFar.subarray(0, newline < 0 ? soFar.length : newline).toString('latin1');
        if (first.startsWith(PID_MARKER)) {
          pid = Number(first.slice(PID_MARKER.length));
          head = soFar.subarray(0, newline + 1);
        }
        if (stopped) {
          clearTimeout(graceTimer);
          kill();
        }
      };
      const kill = (): void => {
        const target = pid !== undefined && Number.isInteger(pid) && pid > 1 ? pid : undefined;
        (target === undefined ? Promise.resolve() : killSession(this.client, target))
          .catch(() => {
            // The connection may be gone too; the grace timer then gives the shell up.
          })
          .finally(() => {
            if (!finished) graceTimer = setTimeout(finish, KILL_GRACE_MS);
          });
      };
      const stop = (why: 'timeout' | 'abort'): void => {
        if (stopped || finished) return;
        stopped = why;
        if (!headDone) graceTimer = setTimeout(kill, KILL_GRACE_MS);
        else kill();
      };
      this.onStdout = (chunk) => {
        out.push(chunk);
        if (out.done && err.done) finish();
      };
      this.onStderr = (chunk) => {
        err.push(chunk);
        readHead();
        if (out.done && err.done) finish();
      };
      this.onEnd = finish;
      const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
      const onAbort = (): void => stop('abort');
      options.signal?.addEventListener('abort', onAbort, { once: true });

      if (this.driver === 'perl') {
        const bytes = Buffer.from(line, 'utf8');
        this.channel.write(Buffer.concat([Buffer.from(`${bytes.length}\n`), bytes]));
      } else {
        this.channel.write(
          `setsid "\${SHELL:-/bin/sh}" -c ${shellQuote(line)} </dev/null >"$F/o" 2>"$F/e"; echo $? >"$F/s"\n`,
        );
      }
      if (options.signal?.aborted) stop('abort');
    });
  }

  /**
   * Ends the shell. A shell that was broken or given up may have left readers behind (killed, or stuck on a FIFO a
   * runaway process holds): its session is killed too while the connection lives.
   */
  close(): void {
    const givenUp = this.broken || this.busy;
    this.broken = true;
    this.channel.end();
    this.channel.close();
    if (givenUp && !this.clientClosed && this.pid !== undefined && this.pid > 1) {
      killSession(this.client, this.pid).catch(() => {
        // The connection went too; sshd ends what is left.
      });
    }
  }
}
