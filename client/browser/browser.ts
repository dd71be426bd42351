/**
 * A browser driven over the DevTools protocol: a live headless Chromium (`Browser.launch`), or a recorded session
 * answering from its log (`BrowserSession` in replay). Tests use the same calls either way.
 */
import { CdpConnection, type CdpTap, type CdpTransport } from './cdp-connection.js';
import { CHROMIUM_FLAGS, ChromiumProcess, DEFAULT_CHROMIUM } from './chromium-process.js';
import { Page } from './page.js';
import type { SessionLogWriter } from './session-log-writer.js';

export interface LaunchOptions {
  /** @default '/usr/bin/chromium' */
  executable?: string;
  /** Flags added after CHROMIUM_FLAGS (`--host-resolver-rules=…`, `--window-size=…`). */
  extraFlags?: readonly string[];
  /** How long Chromium may take to answer its first command. @default 30000 */
  timeoutMs?: number;
  /** Logs every DevTools message of this browser (docs/session-replay.md). */
  log?: SessionLogWriter;
}

export class Browser {
  readonly cdp: CdpConnection;
  readonly #process: ChromiumProcess | undefined;
  readonly #onClosed: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  private constructor(cdp: CdpConnection, process: ChromiumProcess | undefined, onClosed: (() => void) | undefined) {
    this.cdp = cdp;
    this.#process = process;
    this.#onClosed = onClosed;
  }

  /** Starts headless Chromium and waits until it answers over the pipe. Throws `BrowserError`. */
  static async launch(options: LaunchOptions = {}): Promise<Browser> {
    const flags = [...CHROMIUM_FLAGS, ...(options.extraFlags ?? [])];
    const { process, failed } = await ChromiumProcess.spawn(options.executable ?? DEFAULT_CHROMIUM, flags);
    const logged = options.log?.launch(flags);
    const browser = new Browser(new CdpConnection(process.transport, logged?.tap), process, logged && (() => options.log!.closeBrowser(logged.browser)));
    try {
      await Promise.race([browser.version(options.timeoutMs), failed]);
    } catch (error) {
      await browser.close();
      throw error;
    }
    return browser;
  }

  /** A browser behind any transport (a log replay): nothing to start or kill. */
  static over(transport: CdpTransport, options: { tap?: CdpTap; onClosed?: () => void } = {}): Browser {
    return new Browser(new CdpConnection(transport, options.tap), undefined, options.onClosed);
  }

  /** The Chromium process id, when this browser is a live one. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  version(timeoutMs?: number): Promise<{ product: string; userAgent: string; protocolVersion: string }> {
    return this.cdp.send('Browser.getVersion', {}, { timeoutMs: timeoutMs ?? 30_000 });
  }

  /** Opens a blank tab. */
  newPage(): Promise<Page> {
    return Page.open(this.cdp);
  }

  /** Asks the browser to quit, kills what is left after 5 s and removes the profile. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.cdp.closed) await this.cdp.send('Browser.close', {}, { timeoutMs: 2_000 }).catch(() => undefined);
      await this.#process?.stop();
      this.cdp.close();
      this.#onClosed?.();
    })();
    return this.#closing;
  }
}
