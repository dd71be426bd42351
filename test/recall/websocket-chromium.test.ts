// Headless Chromium runs a page that talks WebSocket (wss://, a subprotocol, text, binary and a JSON subscription
// carrying a fresh random id): recorded through Recall's HTTPS server from a real `ws` origin, then played back
// with the origin stopped. The page shows the same frames both times; the JSON frame matches by ignoring `id`.
// Loopback: the host maps to Recall with --host-resolver-rules, and Recall's leaf key is trusted by its SPKI hash.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Archive,
  ArchivingHTTPClient,
  CertificateAuthority,
  HTTPClient,
  HTTPSServer,
  isWebSocketExchange,
  PlaybackHTTPClient,
  WebSocketPlayer,
  WebSocketRecorder,
  type HttpExchanger,
  type ProtocolChoice,
  type WebSocketExchanger,
} from '../../lib/recall/index.js';
import { launchChromium, spkiHash } from '../helpers/chromium.js';
import { createTestCa, loopbackLookup, type TestCa } from './http-fixtures.js';
import { startWsOrigin, until, type WsOrigin } from './websocket-fixtures.js';

const PAGE = `<!doctype html><html><body><ul id="log"></ul><p id="state">waiting</p><script>
const log = (text) => { const li = document.createElement('li'); li.textContent = text; document.getElementById('log').appendChild(li); };
const ws = new WebSocket('wss://' + location.host + '/feed', ['tick.v1']);
ws.binaryType = 'arraybuffer';
let count = 0;
ws.onmessage = (event) => {
  count++;
  const text = typeof event.data === 'string' ? event.data : 'bytes:' + Array.from(new Uint8Array(event.data)).join(',');
  log(text);
  if (event.data === 'welcome') ws.send('hi');
  else if (event.data === 'echo:hi') ws.send(new Uint8Array([1, 2, 3, 250]));
  else if (typeof event.data !== 'string') ws.send(JSON.stringify({ op: 'sub', id: Math.random().toString(36).slice(2) }));
  if (count === 7) { document.getElementById('state').textContent = 'done ' + ws.protocol; ws.close(1000); }
};
ws.onerror = () => { document.getElementById('state').textContent = 'error'; };
</script></body></html>`;

describe('Chromium WebSocket page recorded and played back', () => {
  let dir: string;
  let labCa: TestCa;
  let ca: CertificateAuthority;
  let origin: WsOrigin;
  let browser: Browser | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-ws-chromium-'));
    labCa = createTestCa('Lab Public CA');
    ca = await CertificateAuthority.open('/O=Recall WS Chromium', { dir: join(dir, 'ca') });
    origin = await startWsOrigin(labCa.issue('ticker.test'), PAGE);
  });

  afterAll(async () => {
    await browser?.close();
    await origin.close();
    await ca.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Loads the page through an HTTPS interceptor and returns what it shows once its conversation is over, with what
   * DevTools reported: the page's protocol and the WebSocket handshake's status (101 over HTTP/1.1, 200 over h2).
   */
  async function showPage(
    originPort: number,
    exchanger: HttpExchanger,
    webSocket: WebSocketExchanger,
    protocols?: ProtocolChoice,
  ): Promise<{ state: string; log: string[]; protocol?: string; handshakeStatus?: number }> {
    await using https = new HTTPSServer({ exchanger, certificates: ca, webSocket, protocols });
    const { port } = await https.listen();
    await browser?.close();
    browser = await launchChromium([
      `--host-resolver-rules=MAP ticker.test:${originPort} 127.0.0.1:${port}`,
      `--ignore-certificate-errors-spki-list=${await spkiHash(port, 'ticker.test')}`,
    ]);
    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const devtools: { protocol?: string; handshakeStatus?: number } = {};
    cdp.on('Network.responseReceived', (event) => {
      if (event.type === 'Document') devtools.protocol = event.response.protocol;
    });
    cdp.on('Network.webSocketHandshakeResponseReceived', (event) => (devtools.handshakeStatus = event.response.status));
    await page.goto(`https://ticker.test:${originPort}/`, { waitUntil: 'load' });
    await page
      .waitForFunction("document.getElementById('state').textContent !== 'waiting'", undefined, {
        timeout: 60_000,
      })
      .catch(() => undefined);
    const seen = (await page.evaluate(`(() => ({
      state: document.getElementById('state').textContent,
      log: [...document.querySelectorAll('#log li')].map((li) => li.textContent),
    }))()`)) as { state: string; log: string[] };
    await browser.close();
    browser = undefined;
    return { ...seen, ...devtools };
  }

  it('shows the same frames played back as recorded, with the origin stopped', async () => {
    const archive = Archive.create();
    const upstream = { lookup: loopbackLookup, allowLocalUpstreams: true, extraCAs: [labCa.pem] };
    const recorder = new ArchivingHTTPClient(new HTTPClient(upstream), { archive });
    const recorded = await showPage(origin.port, recorder, new WebSocketRecorder({ archive, ...upstream }));
    const expected = {
      protocol: 'http/1.1',
      handshakeStatus: 101,
      state: 'done tick.v1',
      log: [
        'welcome',
        'echo:hi',
        'bytes:250,3,2,1',
        '{"ok":true,"op":"sub"}',
        '{"tick":1}',
        '{"tick":2}',
        '{"tick":3}',
      ],
    };
    expect(recorded).toEqual(expected);
    const file = join(dir, 'chromium-ws.har');
    await until(() => archive.exchanges.some(isWebSocketExchange)); // the close handshake ends the recording
    await archive.save(file);
    await origin.close();

    const loaded = await Archive.load(file);
    const playback = new PlaybackHTTPClient(loaded);
    const player = new WebSocketPlayer(loaded, { ignoreJsonPaths: ['id'], misses: playback });
    const played = await showPage(origin.port, playback, player);
    expect(played).toEqual(expected);
    expect(player.connections).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200)); // a mismatch is noted when the connection closes
    expect(player.mismatches()).toEqual([]);
  }, 120_000);

  it('opens the WebSocket on the h2 connection (RFC 8441) when the page host speaks h2, recording and playing back', async () => {
    const h2Origin = await startWsOrigin(labCa.issue('ticker.test'), PAGE);
    try {
      // The origin speaks HTTP/1.1; the client side is h2 by choice here, as for a host whose real server chose h2.
      const h2: ProtocolChoice = { prepare: () => Promise.resolve(), chosen: () => 'h2' };
      const archive = Archive.create();
      const upstream = { lookup: loopbackLookup, allowLocalUpstreams: true, extraCAs: [labCa.pem] };
      const recorder = new ArchivingHTTPClient(new HTTPClient(upstream), { archive });
      const frames = ['welcome', 'echo:hi', 'bytes:250,3,2,1', '{"ok":true,"op":"sub"}', '{"tick":1}', '{"tick":2}', '{"tick":3}'];
      const recorded = await showPage(h2Origin.port, recorder, new WebSocketRecorder({ archive, ...upstream }), h2);
      expect(recorded).toEqual({ state: 'done tick.v1', log: frames, protocol: 'h2', handshakeStatus: 200 });
      await until(() => archive.exchanges.some(isWebSocketExchange));
      const entry = archive.exchanges.find(isWebSocketExchange)!;
      // Recorded in its HTTP/1.1 form (GET, Host, Upgrade), marked as having come over h2.
      expect(entry.request).toMatchObject({ method: 'GET', host: `ticker.test:${h2Origin.port}`, httpVersion: '2.0' });
      expect(entry.request.headers).toEqual(expect.arrayContaining([['Upgrade', 'websocket']]));
      await h2Origin.close();

      // The same archive to an h2 client and to an HTTP/1.1 client.
      for (const [protocols, protocol, handshakeStatus] of [[h2, 'h2', 200], [undefined, 'http/1.1', 101]] as const) {
        const playback = new PlaybackHTTPClient(archive);
        const player = new WebSocketPlayer(archive, { ignoreJsonPaths: ['id'], misses: playback });
        const played = await showPage(h2Origin.port, playback, player, protocols);
        expect(played).toEqual({ state: 'done tick.v1', log: frames, protocol, handshakeStatus });
        await until(() => player.connections === 1);
        expect(player.mismatches()).toEqual([]);
      }
    } finally {
      await h2Origin.close();
    }
  }, 120_000);
});
