/** One tab, attached over a flat DevTools session: navigate, evaluate, screenshot, and its own commands and events. */
import type { CdpConnection, CdpEvent, SendOptions } from './cdp-connection.js';
import { BrowserError } from './chromium-process.js';

export interface Navigation {
  readonly frameId: string;
  readonly loaderId?: string;
  /** Set when the navigation failed (`net::ERR_NAME_NOT_RESOLVED`, …). */
  readonly errorText?: string;
}

export class Page {
  readonly targetId: string;
  readonly sessionId: string;
  readonly #cdp: CdpConnection;

  private constructor(cdp: CdpConnection, targetId: string, sessionId: string) {
    this.#cdp = cdp;
    this.targetId = targetId;
    this.sessionId = sessionId;
  }

  /** Opens a blank tab and attaches to it. */
  static async open(cdp: CdpConnection): Promise<Page> {
    const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    return new Page(cdp, targetId, sessionId);
  }

  /** Sends a command to this tab. */
  send<T = any>(method: string, params: Record<string, unknown> = {}, options: Omit<SendOptions, 'sessionId'> = {}): Promise<T> {
    return this.#cdp.send<T>(method, params, { ...options, sessionId: this.sessionId });
  }

  /** Calls `listener` for each event of this tab; returns a function that removes it. */
  onEvent(listener: (event: CdpEvent) => void): () => void {
    return this.#cdp.onEvent((event) => {
      if (event.sessionId === this.sessionId) listener(event);
    });
  }

  waitForEvent(method: string, options: { timeoutMs?: number; predicate?: (event: CdpEvent) => boolean } = {}): Promise<CdpEvent> {
    return this.#cdp.waitForEvent(method, { ...options, sessionId: this.sessionId });
  }

  /** Sets the viewport (CSS pixels, scale 1): what screenshots show. */
  async setViewport(width: number, height: number): Promise<void> {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
  }

  /** Navigates and waits for the load event (Page.enable first); a failed navigation resolves with its errorText. */
  async navigate(url: string, options: { timeoutMs?: number } = {}): Promise<Navigation> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    await this.send('Page.enable');
    const loaded = this.waitForEvent('Page.loadEventFired', { timeoutMs });
    loaded.catch(() => undefined);
    const navigation = await this.send<Navigation>('Page.navigate', { url }, { timeoutMs });
    if (!navigation.errorText) await loaded;
    return navigation;
  }

  /** Evaluates `expression` in the page (promises awaited) and returns its value; a thrown exception rejects. */
  async evaluate<T = unknown>(expression: string, options: { timeoutMs?: number } = {}): Promise<T> {
    const evaluated = await this.send<{ result: { value?: T }; exceptionDetails?: { text: string; exception?: { description?: string } } }>(
      'Runtime.evaluate',
      { expression, returnByValue: true, awaitPromise: true },
      options,
    );
    if (evaluated.exceptionDetails) {
      throw new BrowserError('ERR_BROWSER_EVALUATE', `the page threw: ${evaluated.exceptionDetails.exception?.description ?? evaluated.exceptionDetails.text}`);
    }
    return evaluated.result.value as T;
  }

  /** A PNG (or JPEG) of the viewport, or of the whole page with `fullPage`. */
  async screenshot(options: { format?: 'png' | 'jpeg'; fullPage?: boolean } = {}): Promise<Buffer> {
    const { data } = await this.send<{ data: string }>('Page.captureScreenshot', { format: options.format ?? 'png', ...(options.fullPage ? { captureBeyondViewport: true } : {}) });
    return Buffer.from(data, 'base64');
  }

  /** Closes the tab; a tab that is already gone is not an error. */
  async close(): Promise<void> {
    await this.#cdp.send('Target.closeTarget', { targetId: this.targetId }).catch(() => undefined);
  }
}
