// The deterministic script injector in real headless Chromium (two page loads see the same random numbers and
// clock, through a Content-Security-Policy and a gzip body cut into chunks), and as an exchanger wrapper.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DeterministicScriptInjector,
  injectDeterministicScript,
} from '../../lib/recall/determinism/deterministic-script-injector.js';
import type { RawHeaders, RecordedRequest } from '../../lib/recall/archive/archive-types.js';
import type { ExchangeResponse, HttpExchanger } from '../../lib/recall/http/http-exchanger.js';
import { html, OPEN_TAG, PROBE, runInVm, STATE } from '../helpers/deterministic-probe.js';

const run = promisify(execFile);
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** An origin for the injector: serves fixed pages, cut into chunks that split tags. */
class ChunkedOrigin implements HttpExchanger {
  constructor(private readonly pages: Record<string, { headers: RawHeaders; body: Buffer }>) {}
  async exchange(request: RecordedRequest): Promise<ExchangeResponse> {
    const page = this.pages[request.target] ?? {
      headers: [['content-type', 'text/plain']],
      body: Buffer.from('missing'),
    };
    const body = page.body;
    return {
      status: 200,
      statusText: 'OK',
      httpVersion: '1.1',
      headers: page.headers,
      body: (async function* () {
        for (let i = 0; i < body.length; i += 7) yield body.subarray(i, i + 7);
      })(),
    };
  }
  async close(): Promise<void> {}
}

const PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>deterministic</title></head><body><header>h</header>
<pre id="out"></pre>
<script nonce="n0nce">
document.getElementById('out').textContent = ${PROBE.replace('crypto.randomUUID()', "(crypto.randomUUID ? crypto.randomUUID() : 'none')")};
</script></body></html>`;

async function serve(injector: DeterministicScriptInjector): Promise<number> {
  const server = http.createServer((req, res) => {
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      scheme: 'http',
      host: req.headers.host ?? '',
      target: req.url ?? '/',
      httpVersion: '1.1',
      headers: [],
      body: Buffer.alloc(0),
    };
    void injector.exchange(request).then(async (response) => {
      res.writeHead(response.status, Object.fromEntries(response.headers));
      for await (const chunk of response.body) res.write(chunk);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

async function chromiumDump(url: string): Promise<Record<string, unknown>> {
  const profile = await mkdtemp(join(tmpdir(), 'recall-chromium-'));
  cleanups.push(() => rm(profile, { recursive: true, force: true }));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    `--user-data-dir=${profile}`,
    '--dump-dom',
    url,
  ];
  const { stdout } = await run('/usr/bin/chromium', args, { timeout: 60_000 });
  const text = /<pre id="out">([\s\S]*?)<\/pre>/.exec(stdout)?.[1] ?? '';
  return JSON.parse(
    text
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&'),
  ) as Record<string, unknown>;
}

describe('DeterministicScriptInjector in headless Chromium', () => {
  it('gives two page loads the same random numbers and clock, through a CSP and through gzip split into chunks', async () => {
    const csp: RawHeaders = [
      ['content-type', 'text/html; charset=utf-8'],
      ['content-security-policy', "script-src 'nonce-n0nce'"],
    ];
    const origin = new ChunkedOrigin({
      '/csp': { headers: csp, body: Buffer.from(PAGE) },
      '/gzip': { headers: [...csp, ['content-encoding', 'gzip']], body: gzipSync(Buffer.from(PAGE)) },
    });
    const port = await serve(new DeterministicScriptInjector(origin, { state: () => STATE }));
    for (const path of ['/csp', '/gzip']) {
      const first = await chromiumDump(`http://127.0.0.1:${port}${path}`);
      const second = await chromiumDump(`http://127.0.0.1:${port}${path}`);
      expect(second).toEqual(first);
      expect(first).toMatchObject({
        now: STATE.startTime,
        date: STATE.startTime,
        isDate: true,
        ctor: true,
        subclass: true,
        pageMethod: 42,
        withArgs: 1,
      });
      expect(first.random).toEqual(
        runInVm((await injectDeterministicScript(html('<head>'), STATE)).body.toString('latin1')).random,
      );
    }
  }, 180_000);
});

describe('DeterministicScriptInjector and a policy given in the markup', () => {
  it('lets the script run under <meta http-equiv="Content-Security-Policy">', async () => {
    const page = PAGE.replace(
      '<head>',
      `<head><meta http-equiv="Content-Security-Policy" content="script-src 'nonce-n0nce'">`,
    );
    const origin = new ChunkedOrigin({
      '/meta': { headers: [['content-type', 'text/html']], body: Buffer.from(page) },
    });
    const port = await serve(new DeterministicScriptInjector(origin, { state: STATE }));
    expect(await chromiumDump(`http://127.0.0.1:${port}/meta`)).toMatchObject({
      now: STATE.startTime,
      isDate: true,
    });
  }, 120_000);
});

describe('DeterministicScriptInjector as an exchanger', () => {
  it('finds tags split across chunks, injects each response on its own, and passes oversized bodies through', async () => {
    const page = Buffer.from('<html><head><title>split</title></head><body>ok</body></html>');
    const origin = new ChunkedOrigin({
      '/': { headers: [['content-type', 'text/html']], body: page },
      '/big': { headers: [['content-type', 'text/html']], body: Buffer.alloc(100, 'a') },
    });
    const injector = new DeterministicScriptInjector(origin, { state: STATE, maxBodyBytes: 90 });
    const request: RecordedRequest = {
      method: 'GET',
      scheme: 'http',
      host: 'x.test',
      target: '/',
      httpVersion: '1.1',
      headers: [],
      body: Buffer.alloc(0),
    };
    const read = async (response: ExchangeResponse): Promise<string> => {
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(chunk);
      return Buffer.concat(chunks).toString('latin1');
    };
    const bodies = await Promise.all([1, 2, 3].map(async () => read(await injector.exchange(request))));
    expect(new Set(bodies).size).toBe(1);
    expect(bodies[0]).toContain(`<head>${OPEN_TAG}`);
    expect(await read(await injector.exchange({ ...request, target: '/big' }))).toBe('a'.repeat(100));
    expect(await read(await injector.exchange({ ...request, method: 'HEAD' }))).toBe(page.toString('latin1'));
  });
});
