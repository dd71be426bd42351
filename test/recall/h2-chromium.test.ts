// Chromium against the HTTPS interceptor in playback: the host recorded over h2 is served over h2 and the host
// recorded over HTTP/1.1 over HTTP/1.1, as Chromium itself reports in DevTools (Network.responseReceived
// `response.protocol`), with the page's cross-host script loading. Host names map to 127.0.0.1 with
// --host-resolver-rules; the leaf key is trusted by its SPKI hash.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive, ArchivedProtocols, CertificateAuthority, HTTPSServer, PlaybackHTTPClient } from '../../lib/recall/index.js';
import { launchChromium, spkiHash } from '../helpers/chromium.js';

const PAGE = `<html><body><p id="out">waiting</p><script src="https://static.h1.test/app.js"></script></body></html>`;
const SCRIPT = `document.getElementById('out').textContent = 'script ran';`;

describe('Chromium and HTTP/2 playback', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let browser: Browser | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-h2-chromium-'));
    ca = await CertificateAuthority.open('/O=Recall Test', { dir: join(dir, 'ca') });
  });

  afterAll(async () => {
    await browser?.close();
    await ca.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gets h2 from the host recorded over h2 and HTTP/1.1 from the other, as DevTools reports', async () => {
    const archive = Archive.create();
    archive.recall.alpn = { 'www.h2.test': 'h2', 'static.h1.test': 'http/1.1' };
    const started = new Date().toISOString();
    const get = (host: string, target: string, type: string, body: string, httpVersion: string) =>
      archive.add({
        startedDateTime: started,
        timeMs: 1,
        request: { method: 'GET', scheme: 'https', host, target, httpVersion, headers: [], body: Buffer.alloc(0) },
        response: {
          status: 200,
          statusText: 'OK',
          httpVersion,
          headers: [['content-type', type], ['content-length', String(Buffer.byteLength(body))]],
          body: Buffer.from(body),
        },
      });
    await get('www.h2.test', '/', 'text/html', PAGE, '2.0');
    await get('static.h1.test', '/app.js', 'text/javascript', SCRIPT, '1.1');
    const playback = new PlaybackHTTPClient(archive);
    await using https = new HTTPSServer({ exchanger: playback, certificates: ca, protocols: new ArchivedProtocols(archive) });
    const { port } = await https.listen();
    browser = await launchChromium([
      `--host-resolver-rules=MAP www.h2.test:443 127.0.0.1:${port}, MAP static.h1.test:443 127.0.0.1:${port}`,
      `--ignore-certificate-errors-spki-list=${await spkiHash(port, 'www.h2.test')}`,
    ]);
    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    const protocols: Record<string, string | undefined> = {};
    cdp.on('Network.responseReceived', (event: { response: { url: string; protocol?: string } }) => {
      protocols[event.response.url] = event.response.protocol;
    });
    await cdp.send('Network.enable');
    const response = await page.goto('https://www.h2.test/', { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(await page.textContent('#out')).toBe('script ran');
    expect(protocols).toMatchObject({
      'https://www.h2.test/': 'h2',
      'https://static.h1.test/app.js': 'http/1.1',
    });
    expect(playback.misses().map((m) => m.url).filter((url) => !url.endsWith('/favicon.ico'))).toEqual([]);
  }, 180_000);
});
