// Record against a real local origin through HTTPServer, stop the origin, play the archive back: curl and Node's
// fetch must see the same statuses, headers and bytes (gzip and chunked too), repeats in order, misses explained.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fetch } from 'undici';
import {
  Archive,
  ArchivingHTTPClient,
  HTTPClient,
  HTTPServer,
  PlaybackHTTPClient,
  MISS_HEADER,
} from '../../lib/recall/index.js';
import {
  curl,
  headerOf,
  loopbackLookup,
  redirectingAgent,
  startOrigin,
  type CurlResult,
  type Origin,
} from './http-fixtures.js';

const BINARY = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) % 256));
const GZIPPED = gzipSync(Buffer.from('compressed text '.repeat(200)));
const NOISE = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

function comparable(result: CurlResult): unknown {
  return {
    status: result.status,
    headers: result.headers.filter(([n]) => !NOISE.has(n.toLowerCase())),
    body: result.body.toString('base64'),
  };
}

describe('HTTP record and playback', () => {
  let dir: string;
  let origin: Origin;
  let host: string;
  let counter = 0;
  const recorded = new Map<string, unknown>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-http-'));
    origin = await startOrigin((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === '/text') {
          res.writeHead(200, 'Fine Thanks', [
            'Content-Type',
            'text/plain',
            'X-CamelCase-Header',
            'One',
            'set-cookie',
            'a=1',
            'Set-Cookie',
            'b=2',
            'Content-Length',
            '5',
          ]);
          res.end('hello');
        } else if (req.url === '/gzip') {
          res.writeHead(200, {
            'Content-Type': 'text/plain',
            'Content-Encoding': 'gzip',
            'Content-Length': GZIPPED.length,
          });
          res.end(GZIPPED);
        } else if (req.url === '/chunked') {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          res.write(BINARY.subarray(0, 1000));
          setTimeout(() => res.end(BINARY.subarray(1000)), 20);
        } else if (req.url?.startsWith('/counter')) {
          counter++;
          res.end(`count=${counter}`);
        } else if (req.url === '/echo') {
          res.writeHead(201, { 'Content-Type': 'application/octet-stream', 'X-Method': req.method ?? '' });
          res.end(body);
        } else {
          res.writeHead(418);
          res.end();
        }
      });
    });
    host = `origin.test:${origin.port}`;
  });

  afterAll(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records every exchange through a transparent HTTPServer, answering exactly like the origin', async () => {
    const archive = Archive.create({ randomSeed: 42 });
    const client = new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true });
    const recorder = new ArchivingHTTPClient(client, { archive });
    const server = new HTTPServer({ exchanger: recorder });
    const { port } = await server.listen();
    try {
      for (const path of ['/text', '/gzip', '/chunked']) {
        const viaRecall = await curl(`http://${host}${path}`, port);
        const direct = await curl(`http://${host}${path}`, origin.port);
        expect(comparable(viaRecall)).toEqual(comparable(direct));
        recorded.set(path, comparable(viaRecall));
      }
      expect(
        headerOf((await curl(`http://${host}/chunked`, port, ['--raw'])).headers, 'transfer-encoding'),
      ).toBe('chunked');
      counter = 0;
      for (const n of [1, 2, 3])
        expect((await curl(`http://${host}/counter`, port)).body.toString()).toBe(`count=${n}`);
      const posted = await curl(`http://${host}/echo`, port, [
        '-X',
        'PUT',
        '-H',
        'Transfer-Encoding: chunked',
        '-H',
        'Expect: 100-continue',
        '--data-binary',
        'chunked upload',
      ]);
      expect(posted.status).toBe(201);
      expect(posted.body.toString()).toBe('chunked upload');
      const agent = redirectingAgent(port);
      const response = await fetch(`http://${host}/echo`, {
        method: 'POST',
        body: BINARY,
        dispatcher: agent,
      });
      expect(response.status).toBe(201);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(BINARY);
      await agent.close();
      expect(archive.size).toBe(9);
      await archive.save(join(dir, 'session.har.gz'));
    } finally {
      await server.close();
      await recorder.close();
    }
  });

  it('plays back with the origin stopped: same bytes, statuses and headers; repeats in order; misses are 404s', async () => {
    const before = origin.connections;
    const archive = await Archive.load(join(dir, 'session.har.gz'));
    expect(archive.recall.randomSeed).toBe(42);
    const playback = new PlaybackHTTPClient(archive);
    await using server = new HTTPServer({ exchanger: playback });
    const { port } = await server.listen();
    for (const path of ['/text', '/chunked']) {
      expect(comparable(await curl(`http://${host}${path}`, port))).toEqual(recorded.get(path));
    }
    // The gzip body: as recorded to a client that takes gzip, decoded to one that does not (issue 17.1).
    const gzipTaken = ['-H', 'Accept-Encoding: gzip'];
    expect(comparable(await curl(`http://${host}/gzip`, port, gzipTaken))).toEqual(recorded.get('/gzip'));
    const plain = await curl(`http://${host}/gzip`, port);
    expect(plain.body.toString()).toBe('compressed text '.repeat(200));
    expect(headerOf(plain.headers, 'content-encoding')).toBeUndefined();
    expect(headerOf(plain.headers, 'content-length')).toBe(String(plain.body.length));
    expect(
      headerOf((await curl(`http://${host}/chunked`, port, ['--raw'])).headers, 'transfer-encoding'),
    ).toBe('chunked');
    const counts = [];
    for (let i = 0; i < 5; i++) counts.push((await curl(`http://${host}/counter`, port)).body.toString());
    expect(counts).toEqual(['count=1', 'count=2', 'count=3', 'count=3', 'count=3']);
    const agent = redirectingAgent(port);
    const echoed = await fetch(`http://${host}/echo`, { method: 'POST', body: BINARY, dispatcher: agent });
    expect(echoed.status).toBe(201);
    expect(Buffer.from(await echoed.arrayBuffer())).toEqual(BINARY);
    const miss = await fetch(`http://${host}/counter?page=2`, { dispatcher: agent });
    expect(miss.status).toBe(404);
    expect(miss.headers.get(MISS_HEADER)).toBe(`GET http://${host}/counter?page=2`);
    expect(await miss.text()).toContain('Nearest recording: GET');
    await agent.close();
    expect(playback.misses()).toHaveLength(1);
    expect(playback.misses()[0]).toMatchObject({
      method: 'GET',
      url: `http://${host}/counter?page=2`,
      nearest: {
        method: 'GET',
        url: `http://${host}/counter`,
        differences: [{ field: 'query', recorded: '', received: 'page=2' }],
      },
    });
    expect(origin.connections).toBe(before);
  });

  it('makes no upstream connection in playback even when the origin is reachable', async () => {
    const archive = await Archive.load(join(dir, 'session.har.gz'));
    const before = { connections: origin.connections, requests: origin.requests };
    await using server = new HTTPServer({ exchanger: new PlaybackHTTPClient(archive) });
    const { port } = await server.listen();
    expect((await curl(`http://${host}/text`, port)).body.toString()).toBe('hello');
    expect((await curl(`http://${host}/not-recorded`, port)).status).toBe(404);
    expect({ connections: origin.connections, requests: origin.requests }).toEqual(before);
  });

  it('plays back after the origin is gone for good', async () => {
    await origin.close();
    const archive = await Archive.load(join(dir, 'session.har.gz'));
    await using server = new HTTPServer({ exchanger: new PlaybackHTTPClient(archive) });
    const { port } = await server.listen();
    expect(comparable(await curl(`http://${host}/gzip`, port, ['-H', 'Accept-Encoding: gzip']))).toEqual(
      recorded.get('/gzip'),
    );
  });
});
