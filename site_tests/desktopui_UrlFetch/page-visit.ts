/** Loads one URL in a fresh tab over the DevTools protocol and reports what a test needs to judge it. */
import { createHash } from 'node:crypto';
import type { Browser, CdpEvent } from 'autotest/client';

/** Elements the lab's pages fill from their scripts (server/lab/internet-sites.ts): their text is recorded. */
export const MARKER_IDS = ['app', 'clock', 'random', 'final', 'site', 'title', 'served', 'state', 'log'] as const;

export interface PageVisit {
  readonly url: string;
  /** Where the tab ended up (after redirects). */
  readonly finalUrl: string;
  /** HTTP status of the main document (the last one, after redirects); undefined when none arrived. */
  readonly status: number | undefined;
  /** The protocol the main document came over, as the browser reports it (`h2`, `http/1.1`). */
  readonly protocol: string | undefined;
  /** Responses per protocol, page and subresources: `h2:7,http/1.1:1` (WebSocket handshakes not included). */
  readonly protocols: string;
  /** Status of each WebSocket handshake, in order: 101 over HTTP/1.1, 200 over h2 (RFC 8441); empty for none. */
  readonly webSocketHandshakes: string;
  /** Set when the navigation failed (`net::ERR_NAME_NOT_RESOLVED`, …) or the load event never came. */
  readonly error: string | undefined;
  /** From the main document's request to the load event, by the browser's own clock (so a replay gives the same). */
  readonly loadMs: number;
  /** Bytes received over the network (encodedDataLength of every finished request). */
  readonly bytes: number;
  readonly requests: number;
  readonly failedRequests: number;
  readonly redirects: number;
  readonly readyState: string;
  /** `typeof window` as the page's script context sees it: 'object' when scripts run. */
  readonly windowType: string;
  /** SHA-256 of `document.documentElement.outerHTML` after load: compare two runs with it. */
  readonly htmlSha256: string;
  /** Text of the marker elements present on the page. */
  readonly markers: Readonly<Record<string, string>>;
}

const PAGE_STATE = `JSON.stringify({
  readyState: document.readyState,
  windowType: typeof window,
  href: location.href,
  html: document.documentElement ? document.documentElement.outerHTML : '',
  markers: Object.fromEntries(${JSON.stringify(MARKER_IDS)}
    .map((id) => [id, document.getElementById(id)])
    .filter(([, el]) => el)
    .map(([id, el]) => [id, el.textContent])),
})`;

/** How long the network must be quiet after the load event, and how long to wait for that at most. */
const IDLE_QUIET_MS = 500;
const IDLE_LIMIT_MS = 3000;

export async function visitPage(browser: Browser, url: string, timeoutMs: number): Promise<PageVisit> {
  const page = await browser.newPage();
  try {
    const documents: { loaderId: string; frameId: string; status: number; url: string; protocol: string | undefined }[] = [];
    const perProtocol = new Map<string, number>();
    const handshakes: number[] = [];
    let bytes = 0;
    let requests = 0;
    let failedRequests = 0;
    let redirects = 0;
    const inFlight = new Set<string>();
    let lastActivity = performance.now();
    let firstRequestAt: number | undefined;
    let loadAt: number | undefined;
    let onLoad: () => void = () => undefined;
    const loaded = new Promise<void>((resolve) => (onLoad = resolve));
    const stop = page.onEvent((event: CdpEvent) => {
      const p = event.params;
      if (event.method.startsWith('Network.')) {
        lastActivity = performance.now();
        if (event.method === 'Network.requestWillBeSent') inFlight.add(p.requestId);
        else if (event.method === 'Network.loadingFinished' || event.method === 'Network.loadingFailed') inFlight.delete(p.requestId);
      }
      if (event.method === 'Network.webSocketHandshakeResponseReceived') handshakes.push(p.response.status);
      if (event.method === 'Network.responseReceived') {
        const protocol = typeof p.response.protocol === 'string' ? p.response.protocol : 'unknown';
        perProtocol.set(protocol, (perProtocol.get(protocol) ?? 0) + 1);
      }
      if (event.method === 'Network.responseReceived' && p.type === 'Document') {
        documents.push({ loaderId: p.loaderId, frameId: p.frameId, status: p.response.status, url: p.response.url, protocol: p.response.protocol });
      } else if (event.method === 'Network.requestWillBeSent' && p.redirectResponse) redirects += 1;
      else if (event.method === 'Network.loadingFinished') {
        bytes += p.encodedDataLength ?? 0;
        requests += 1;
      } else if (event.method === 'Network.loadingFailed') failedRequests += 1;
      else if (event.method === 'Page.loadEventFired') {
        loadAt ??= p.timestamp;
        onLoad();
      }
      if (event.method === 'Network.requestWillBeSent' && p.type === 'Document') firstRequestAt ??= p.timestamp;
    });
    try {
      await page.send('Page.enable');
      await page.send('Network.enable');
      const navigation = await page.send<{ frameId: string; loaderId?: string; errorText?: string }>('Page.navigate', { url }, { timeoutMs });
      let error = navigation.errorText || undefined;
      if (!error) {
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([
          loaded.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
        ]);
        clearTimeout(timer);
        if (late) error = `the load event did not fire within ${timeoutMs} ms`;
      }
      // Requests a page makes after its load event (the favicon, late scripts) must happen in every run, or a
      // recording would lack what a playback asks for: wait for the network to be quiet for a moment.
      for (const deadline = performance.now() + IDLE_LIMIT_MS; performance.now() < deadline; ) {
        if (inFlight.size === 0 && performance.now() - lastActivity >= IDLE_QUIET_MS) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Protocol timestamps are seconds on the browser's monotonic clock.
      const loadMs = firstRequestAt !== undefined && loadAt !== undefined ? Math.round((loadAt - firstRequestAt) * 1000) : error ? timeoutMs : 0;
      const main = documents.filter((d) => d.frameId === navigation.frameId).at(-1);
      const state = JSON.parse((await page.evaluate<string>(PAGE_STATE)) ?? '{}') as { readyState: string; windowType: string; href: string; html: string; markers: Record<string, string> };
      return {
        url,
        finalUrl: state.href,
        status: main?.status,
        protocol: main?.protocol,
        protocols: [...perProtocol].sort(([a], [b]) => a.localeCompare(b)).map(([protocol, count]) => `${protocol}:${count}`).join(','),
        webSocketHandshakes: handshakes.join(','),
        error,
        loadMs,
        bytes,
        requests,
        failedRequests,
        redirects,
        readyState: state.readyState,
        windowType: state.windowType,
        htmlSha256: createHash('sha256').update(state.html).digest('hex'),
        markers: state.markers,
      };
    } finally {
      stop();
    }
  } finally {
    await page.close();
  }
}
