// Content codings off the event loop and within a cap (issue 12.4): a 200 KB gzip bomb is not inflated to 200 MB
// (one log line says why it was kept encoded, and recording passes it on untouched), and while Recall recodes a
// large HTML page to inject the deterministic script, another request through the same server is answered.
import http from 'node:http';
import { Writable } from 'node:stream';
import { createGzip, brotliCompressSync, constants } from 'node:zlib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Archive,
  ArchivingHTTPClient,
  DeterministicScriptInjector,
  HTTPClient,
  HTTPServer,
} from '../../lib/recall/index.js';
import { decodeBody, decodeBodySync } from '../../lib/recall/http/content-coding.js';
import { exchangeToHarEntry } from '../../lib/recall/archive/archive-codec.js';
import { loopbackLookup, startOrigin, type Origin } from './http-fixtures.js';

/** 200 MiB of zeros, gzip-compressed (about 200 KB), made without holding the 200 MiB. */
async function gzipBomb(): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < 200; i++) if (!gzip.write(zeros)) await new Promise((r) => gzip.once('drain', r));
  gzip.end();
  await done;
  return Buffer.concat(chunks);
}

function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/** A large page that compresses like a real one: words from a fixed pseudo-random sequence. */
function largePage(bytes: number): Buffer {
  const words = ['garden', 'rake', 'spade', 'hose', 'seed', 'soil', 'pot', 'leaf', 'root', 'bloom'];
  const parts: string[] = ['<!DOCTYPE html><html><head><title>big</title></head><body><p>'];
  let size = parts[0]!.length;
  let x = 7;
  while (size < bytes) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const word = `${words[x % words.length]}${x % 97} `;
    parts.push(word);
    size += word.length;
  }
  parts.push('</p></body></html>');
  return Buffer.from(parts.join(''));
}

describe('content codings', () => {
  let bomb: Buffer;
  let origin: Origin;
  const big = brotliCompressSync(largePage(8 * 1024 * 1024), {
    params: { [constants.BROTLI_PARAM_QUALITY]: 4 },
  });
  let releaseSmall: () => void = () => {};
  const bigSent = new Promise<void>((resolve) => (releaseSmall = resolve));

  beforeAll(async () => {
    bomb = await gzipBomb();
    origin = await startOrigin((req, res) => {
      if (req.url === '/bomb') {
        res.writeHead(200, {
          'content-type': 'text/html',
          'content-encoding': 'gzip',
          'content-length': bomb.length,
        });
        res.end(bomb);
      } else if (req.url === '/big') {
        res.writeHead(200, {
          'content-type': 'text/html',
          'content-encoding': 'br',
          'content-length': big.length,
        });
        res.end(big, () => releaseSmall());
      } else {
        // The small answer leaves only once the big body is out: Recall is then recoding it.
        void bigSent.then(() => res.end('small'));
      }
    });
  });

  afterAll(async () => {
    await origin.close();
  });

  it('does not inflate a 200 KB gzip bomb: one log line, the body kept as it came', async () => {
    expect(bomb.length).toBeLessThan(250_000);
    const { logger, lines } = capturingLogger();
    expect(await decodeBody(bomb, 'gzip', { logger, what: 'http://bomb.test/' })).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ body: 'http://bomb.test/', maxBytes: 32 * 1024 * 1024 });
    expect(decodeBodySync(bomb, 'gzip')).toBe('too-large');

    // Recorded through the injector: the device gets the bomb untouched, the archive keeps it encoded.
    const archive = Archive.create();
    const upstream = new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true });
    const injector = new DeterministicScriptInjector(upstream, { state: { startTime: 0, randomSeed: 1 } });
    await using server = new HTTPServer({ exchanger: new ArchivingHTTPClient(injector, { archive }) });
    const { port } = await server.listen();
    const body = await get(port, `origin.test:${origin.port}`, '/bomb');
    expect(body.equals(bomb)).toBe(true);
    await waitFor(() => archive.size === 1);
    const content = exchangeToHarEntry(archive.exchanges[0]!).response.content;
    expect(content).toMatchObject({ size: bomb.length, encoding: 'base64', _recall: { encoded: true } });
    expect(archive.exchanges[0]!.response.decoded).toBeUndefined();
  }, 120_000);

  it('answers another request while a large page is being recoded for the deterministic script', async () => {
    const archive = Archive.create();
    const upstream = new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true });
    const injector = new DeterministicScriptInjector(upstream, { state: { startTime: 0, randomSeed: 1 } });
    await using server = new HTTPServer({ exchanger: new ArchivingHTTPClient(injector, { archive }) });
    const { port } = await server.listen();
    const host = `origin.test:${origin.port}`;
    const order: string[] = [];
    const bigDone = request(port, host, '/big', () => order.push('big response head'));
    const smallDone = get(port, host, '/small').then((b) => order.push(`small answered: ${b.toString()}`));
    await Promise.all([bigDone, smallDone]);
    expect(order).toEqual(['small answered: small', 'big response head']);
  }, 180_000);
});

function request(port: number, host: string, path: string, onHead: () => void = () => {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      onHead();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const get = (port: number, host: string, path: string) => request(port, host, path);

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(condition()).toBe(true);
}
