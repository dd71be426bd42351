import { BrowserError, BrowserSession, Test, TestError, TestFail, type Browser } from 'autotest/client';
import { visitPage, type PageVisit } from './page-visit.js';

/**
 * The lab's pages (server/lab/internet-sites.ts) over HTTP and HTTPS, with a redirect within a site and one across sites,
 * and the HTTP/2 site with a WebSocket page (opened over h2 by the browser).
 */
export const DEFAULT_URLS = [
  'https://static.lab.test/',
  'http://static.lab.test/',
  'https://dynamic.lab.test/',
  'http://redirect.lab.test/',
  'https://redirect.lab.test/elsewhere',
  'https://encoding.lab.test/gzip-chunked',
  'https://api.lab.test/items',
  'https://cookies.lab.test/',
  'https://shared-a.lab.test/',
  'https://shared-b.lab.test/',
  'https://h2.lab.test/',
  'https://h2.lab.test/ticker',
];

export interface UrlFetchArgs {
  /** URLs to load, comma-separated or a list. @default DEFAULT_URLS */
  urls?: string | readonly string[];
  /** Expected main-document statuses other than 200: `URL=STATUS,URL=STATUS`, or an object. */
  expect?: string | Readonly<Record<string, number | string>>;
  /** Milliseconds each page may take to fire its load event. @default 30000 */
  load_timeout_ms?: number | string;
  /** The Chromium executable. @default '/usr/bin/chromium' */
  chromium?: string;
  [key: string]: unknown;
}

/** The ticker page (on ticker.lab.test and h2.lab.test) sets #state to done once its WebSocket conversation ended. */
function tickerDone(m: Readonly<Record<string, string>>): string | undefined {
  return m.state === 'done' ? undefined : `#state reads ${JSON.stringify(m.state)}, expected "done": the WebSocket conversation did not finish`;
}

/**
 * What the lab pages' scripts leave behind, checked after load: a page whose scripts did not run fails.
 * Keyed by host and path of the final URL; a URL not listed only needs `document.readyState === 'complete'`.
 */
const SCRIPT_CHECKS: Record<string, (markers: Readonly<Record<string, string>>) => string | undefined> = {
  'static.lab.test/': (m) => (m.app === 'app.js ran' ? undefined : `#app reads ${JSON.stringify(m.app)}, expected "app.js ran" from /app.js`),
  'dynamic.lab.test/': (m) => {
    const random = Number(m.random);
    if (!m.clock) return '#clock is empty: /clock.js did not run';
    return m.random && random >= 0 && random < 1 ? undefined : `#random reads ${JSON.stringify(m.random)}, expected a number in [0, 1) from Math.random`;
  },
  'redirect.lab.test/final': (m) => (m.final === 'after the redirect' ? undefined : '#final is missing: the redirect target did not render'),
  'h2.lab.test/': (m) => {
    if (m.app !== 'h2 app.js ran') return `#app reads ${JSON.stringify(m.app)}, expected "h2 app.js ran" from /app.js`;
    return m.served?.startsWith('served over HTTP/') ? undefined : `#served reads ${JSON.stringify(m.served)}: the page's fetch('/served') did not complete`;
  },
  'h2.lab.test/ticker': (m) => tickerDone(m),
  'ticker.lab.test/': (m) => tickerDone(m),
  'shared-a.lab.test/': (m) => (m.site === 'shared-a.lab.test' ? undefined : `#site reads ${JSON.stringify(m.site)}: the wrong site answered`),
  'shared-b.lab.test/': (m) => (m.site === 'shared-b.lab.test' ? undefined : `#site reads ${JSON.stringify(m.site)}: the wrong site answered`),
};

function listOf(value: string | readonly string[] | undefined): string[] {
  if (value === undefined || value === '') return [...DEFAULT_URLS];
  const list = typeof value === 'string' ? value.split(',') : [...value];
  return list.map((u) => u.trim()).filter(Boolean);
}

/** `URL=STATUS,…` (split at the last `=` of each item, so URLs may hold `=`) or an object, as a Map. */
function expectedStatuses(value: UrlFetchArgs['expect']): Map<string, number> {
  const entries: [string, string | number][] =
    value === undefined || value === '' ? [] : typeof value === 'string' ? value.split(',').map((item) => [item.slice(0, item.lastIndexOf('=')), item.slice(item.lastIndexOf('=') + 1)]) : Object.entries(value);
  const out = new Map<string, number>();
  for (const [url, status] of entries) {
    const code = Number(status);
    if (!url || !Number.isInteger(code) || code < 100 || code > 599) {
      throw new TestError(`expect: ${JSON.stringify(`${url}=${status}`)} is not URL=STATUS with a status 100-599`);
    }
    out.set(url.trim(), code);
  }
  return out;
}

/** A keyval key for a URL: `https_static.lab.test`, `https_redirect.lab.test_elsewhere`. */
export function urlKey(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol.replace(':', '')}_${parsed.host}${parsed.pathname}${parsed.search}`.replace(/[^\w.-]+/g, '_').replace(/_+$/, '');
}

/** What is wrong with a visit, or undefined when it is as expected. */
function problemWith(visit: PageVisit, expected: number): string | undefined {
  if (visit.error) return `did not load: ${visit.error}`;
  if (visit.status !== expected) return `main document status ${visit.status ?? 'none'}, expected ${expected}`;
  if (visit.readyState !== 'complete' || visit.windowType !== 'object') return `document.readyState is ${visit.readyState} and typeof window is ${visit.windowType}: the page did not finish or scripts do not run`;
  const final = new URL(visit.finalUrl);
  return SCRIPT_CHECKS[`${final.host}${final.pathname}`]?.(visit.markers);
}

/**
 * Loads URLs in real headless Chromium (driven over the DevTools pipe) and checks each main document's status,
 * that the page loaded and that its scripts ran. Per URL it records status, bytes, load time, request counts
 * (perf) and the SHA-256 of the page's HTML and its script-written text (attr), so two runs can be compared.
 */
export class desktopui_UrlFetch extends Test<UrlFetchArgs> {
  #browser: Browser | undefined;

  async runOnce(args: UrlFetchArgs): Promise<void> {
    const urls = listOf(args.urls);
    const expected = expectedStatuses(args.expect);
    for (const url of urls) {
      try {
        new URL(url);
      } catch {
        throw new TestError(`urls: ${JSON.stringify(url)} is not a URL`);
      }
    }
    const timeoutMs = Number(args.load_timeout_ms ?? 30_000);
    this.logger.info({ urls }, 'starting Chromium');
    try {
      // Logged to devtools.jsonl for session-replay; on a replay, answered from that log (docs/session-replay.md).
      this.#browser = await BrowserSession.forTest(this, args).launch({ ...(args.chromium ? { executable: args.chromium } : {}) });
    } catch (error) {
      if (error instanceof BrowserError && error.code === 'ERR_BROWSER_MISSING') throw new TestError(error.message, { cause: error });
      throw new TestError(`Chromium did not start: ${(error as Error).message}`, { cause: error });
    }
    const stopOnAbort = () => void this.#browser?.close();
    this.signal.addEventListener('abort', stopOnAbort, { once: true });
    const attr: Record<string, string> = {};
    const perf: Record<string, number> = {};
    const failures: string[] = [];
    try {
      for (const url of urls) {
        this.logger.info({ url }, 'loading');
        const visit = await visitPage(this.#browser, url, timeoutMs);
        const key = urlKey(url);
        const problem = problemWith(visit, expected.get(url) ?? 200);
        this.logger.info({ ...visit, problem }, problem ? `${url}: ${problem}` : `${url}: loaded`);
        if (problem) failures.push(`${url}: ${problem}`);
        Object.assign(perf, {
          [`${key}_status`]: visit.status ?? 0,
          [`${key}_bytes`]: visit.bytes,
          [`${key}_load_ms`]: visit.loadMs,
          [`${key}_requests`]: visit.requests,
          [`${key}_failed_requests`]: visit.failedRequests,
          [`${key}_redirects`]: visit.redirects,
        });
        attr[`${key}_html_sha256`] = visit.htmlSha256;
        attr[`${key}_final_url`] = visit.finalUrl;
        if (visit.protocol) attr[`${key}_protocol`] = visit.protocol;
        attr[`${key}_protocols`] = visit.protocols;
        if (visit.webSocketHandshakes) attr[`${key}_websocket_handshakes`] = visit.webSocketHandshakes;
        if (visit.error) attr[`${key}_error`] = visit.error;
        for (const [id, text] of Object.entries(visit.markers)) attr[`${key}_text_${id}`] = text.replace(/[\r\n]+/g, ' ');
      }
    } finally {
      this.signal.removeEventListener('abort', stopOnAbort);
      await this.#browser.close();
      this.#browser = undefined;
    }
    perf.urls = urls.length;
    perf.urls_failed = failures.length;
    await this.writeIterationKeyval(attr, perf);
    if (failures.length > 0) throw new TestFail(`${failures.length} of ${urls.length} URLs failed: ${failures.join('; ')}`);
  }

  /** Chromium never outlives the test, even when it was stopped mid-load. */
  override async cleanup(): Promise<void> {
    await this.#browser?.close();
    this.#browser = undefined;
  }
}
