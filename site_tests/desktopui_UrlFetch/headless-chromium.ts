/** Starts headless Chromium driven over the DevTools pipe, in its own process group with a throw-away profile. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CdpPipe } from './cdp-pipe.js';

/** Flags for a quiet, reproducible browser: no background traffic that a Recall archive would have to hold. */
export const CHROMIUM_FLAGS = [
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

export class HeadlessChromium {
  readonly cdp: CdpPipe;
  readonly #child: ChildProcess;
  readonly #profileDir: string;
  #stderr = '';
  #closing: Promise<void> | undefined;

  private constructor(child: ChildProcess, profileDir: string) {
    this.#child = child;
    this.#profileDir = profileDir;
    this.cdp = new CdpPipe(child.stdio[3] as Writable, child.stdio[4] as Readable);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => (this.#stderr = (this.#stderr + text).slice(-4000)));
    child.stdout!.resume();
  }

  /** The last lines Chromium wrote on stderr, for error messages. */
  get stderrTail(): string {
    return this.#stderr.trim().split('\n').slice(-5).join(' | ');
  }

  /** Starts Chromium and waits until it answers over the pipe. */
  static async launch(executable: string, options: { timeoutMs?: number } = {}): Promise<HeadlessChromium> {
    const profileDir = await mkdtemp(join(tmpdir(), 'url-fetch-chromium-'));
    // detached: Chromium's zygote, renderers and GPU process share its process group, so one kill ends them all.
    const child = spawn(executable, [...CHROMIUM_FLAGS, `--user-data-dir=${profileDir}`, 'about:blank'], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const browser = new HeadlessChromium(child, profileDir);
    const exited = new Promise<never>((_, reject) => {
      child.once('error', (error) => reject(error));
      child.once('exit', (code, signal) => reject(new Error(`Chromium exited during start-up (${signal ?? `exit ${code}`}): ${browser.stderrTail}`)));
    });
    exited.catch(() => undefined);
    try {
      await Promise.race([browser.cdp.send('Browser.getVersion', {}, { timeoutMs: options.timeoutMs ?? 30_000 }), exited]);
    } catch (error) {
      await browser.close();
      throw error;
    }
    return browser;
  }

  /** Asks Chromium to quit, kills its whole process group after 5 s, and removes the profile. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const child = this.#child;
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        await this.cdp.send('Browser.close', {}, { timeoutMs: 2_000 }).catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000)))]);
        clearTimeout(timer);
      }
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // The group is already gone: nothing left to kill.
        }
      }
      this.cdp.close();
      await rm(this.#profileDir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return this.#closing;
  }
}
