/** Starts Debian's Chromium headless with the DevTools pipe, in its own process group with a throw-away profile. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { AutotestError } from '../../lib/errors.js';
import { PipeTransport } from './pipe-transport.js';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, reproducible browser: no background traffic that a Recall archive would have to hold. */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-sync',
  '--disable-quic',
  '--password-store=basic',
  '--remote-debugging-pipe',
];

export class BrowserError extends AutotestError {}

export class ChromiumProcess {
  readonly transport: PipeTransport;
  readonly #child: ChildProcess;
  readonly #profileDir: string;
  #stderr = '';
  #stopping: Promise<void> | undefined;
  readonly exited: Promise<void>;

  private constructor(child: ChildProcess, profileDir: string) {
    this.#child = child;
    this.#profileDir = profileDir;
    this.transport = new PipeTransport(child.stdio[3] as Writable, child.stdio[4] as Readable);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => (this.#stderr = (this.#stderr + text).slice(-4000)));
    child.stdout!.resume();
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last lines Chromium wrote on stderr, for error messages. */
  get stderrTail(): string {
    return this.#stderr.trim().split('\n').slice(-5).join(' | ');
  }

  /** Spawns Chromium with `flags` (plus a fresh profile); throws `BrowserError` when it cannot start. */
  static async spawn(executable: string, flags: readonly string[]): Promise<{ process: ChromiumProcess; failed: Promise<never> }> {
    if (!existsSync(executable)) {
      throw new BrowserError('ERR_BROWSER_MISSING', `Chromium is not installed at ${executable}: install the chromium package or pass the path of a Chromium executable`);
    }
    const profileDir = await mkdtemp(join(tmpdir(), 'autotest-chromium-'));
    // detached: Chromium's zygote, renderers and GPU process share its process group, so one kill ends them all.
    const child = spawn(executable, [...flags, `--user-data-dir=${profileDir}`, 'about:blank'], { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], detached: true });
    const process = new ChromiumProcess(child, profileDir);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) => reject(new BrowserError('ERR_BROWSER_START', `Chromium (${executable}) did not start: ${error.message}`)));
      child.once('exit', (code, signal) => reject(new BrowserError('ERR_BROWSER_START', `Chromium exited during start-up (${signal ?? `exit ${code}`}): ${process.stderrTail}`)));
    });
    failed.catch(() => undefined);
    return { process, failed };
  }

  /** Waits up to `graceMs` for Chromium to exit by itself, then kills its process group and removes the profile. */
  stop(graceMs = 5_000): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.running) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
      }
      if (this.#child.pid !== undefined) {
        try {
          process.kill(-this.#child.pid, 'SIGKILL');
        } catch {
          // The group is already gone: nothing left to kill.
        }
      }
      this.transport.close();
      await rm(this.#profileDir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return this.#stopping;
  }
}
