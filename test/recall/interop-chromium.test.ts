// A HAR exported by Chrome's developer tools (test/fixtures/archives/foreign-hars.ts: bodies stored decoded under
// br, gzip and deflate, HTTP/2 pseudo-headers, a blocked request) played back by Recall's HTTPS server to real
// headless Chromium: the page renders, its stylesheet, image and script load, and the script's POST is answered.
// Loopback: host names map to 127.0.0.1 with --host-resolver-rules, and the leaf key is trusted by its SPKI hash.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive, CertificateAuthority, HTTPSServer, PlaybackHTTPClient } from '../../lib/recall/index.js';
import { archiveBytes } from '../fixtures/archives/foreign-hars.js';
import { launchChromium, spkiHash } from '../helpers/chromium.js';

describe('a Chrome HAR played back to Chromium', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let browser: Browser | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-interop-chromium-'));
    ca = await CertificateAuthority.open('/O=Recall Interop Chromium', { dir: join(dir, 'ca') });
  });

  afterAll(async () => {
    await browser?.close();
    await ca.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('renders the page with its decoded stylesheet, image and script, and answers its POST', async () => {
    const file = join(dir, 'chrome.har');
    await writeFile(file, archiveBytes('chrome'));
    const playback = new PlaybackHTTPClient(await Archive.load(file));
    await using https = new HTTPSServer({ exchanger: playback, certificates: ca });
    const { port } = await https.listen();
    browser = await launchChromium([
      `--host-resolver-rules=MAP www.shop.test:443 127.0.0.1:${port}`,
      `--ignore-certificate-errors-spki-list=${await spkiHash(port, 'www.shop.test')}`,
    ]);
    const page = await browser.newPage();
    const encodings: Record<string, string | undefined> = {};
    page.on('response', (response) => {
      encodings[new URL(response.url()).pathname] = response.headers()['content-encoding'];
    });
    const response = await page.goto('https://www.shop.test/', { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    // Waited for, then compared: after a timeout the comparison below shows what the page had and what missed.
    await page
      .waitForFunction("document.getElementById('result')?.textContent !== 'waiting'", undefined, {
        timeout: 60_000,
      })
      .catch(() => undefined);
    // A string, evaluated in the page (this file is compiled without the DOM's types).
    const seen = await page.evaluate(`(() => {
      const title = document.getElementById('title');
      return {
        title: title.textContent,
        ran: title.dataset.ran,
        color: getComputedStyle(title).color,
        logoWidth: document.getElementById('logo').naturalWidth,
        result: document.getElementById('result').textContent,
      };
    })()`);
    const missed = playback.misses().map((m) => m.url);
    expect({ ...(seen as object), missed }).toEqual({
      missed: missed.filter((url) => url.endsWith('/favicon.ico')),
      title: 'Café ✓ shop',
      ran: 'yes',
      color: 'rgb(0, 128, 0)',
      logoWidth: 1,
      result: 'rake,rake handle,leaf rake',
    });
    // Chromium takes every coding, so it got each body re-encoded as recorded.
    expect(encodings).toMatchObject({
      '/': 'br',
      '/app.js': 'gzip',
      '/style.css': 'deflate',
      '/api/search': 'gzip',
    });
  }, 180_000);
});
