// What must never take the servers down or leave a client hanging: malformed HTTP, garbage on the TLS port,
// unreachable or silent upstreams (502/504), bodies cut short (nothing half-recorded), hop-by-hop headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetch } from 'undici';
import {
  Archive,
  ArchivingHTTPClient,
  CertificateAuthority,
  HTTPClient,
  HTTPSServer,
  HTTPServer,
  PlaybackHTTPClient,
} from '../../lib/recall/index.js';
import { bodyOf } from '../../lib/recall/http/http-exchanger.js';
import {
  curl,
  headerOf,
  loopbackLookup,
  redirectingAgent,
  startOrigin,
  type Origin,
} from './http-fixtures.js';

/** Sends raw bytes, returns whatever comes back before the server closes (or 2 s of silence). */
function raw(port: number, bytes: Buffer | string): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes));
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe('HTTP and HTTPS servers under abuse', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let origin: Origin;
  let seen: Array<{ method: string; headers: string[] }>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-abuse-'));
    ca = await CertificateAuthority.open('/O=Recall Abuse Test', { dir: join(dir, 'ca') });
    seen = [];
    origin = await startOrigin((req, res) => {
      seen.push({ method: req.method ?? '', headers: req.rawHeaders });
      if (req.url === '/hang') return; // never answers
      if (req.url === '/reset') {
        res.writeHead(200, { 'Content-Length': '100000' });
        res.write(Buffer.alloc(1000, 1));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      if (req.url === '/big') {
        // 16 MiB in 64 KiB writes, as fast as the proxy takes them.
        res.writeHead(200, {
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(256 * 65536),
        });
        let sent = 0;
        const pump = (): void => {
          while (sent < 256) {
            sent += 1;
            if (!res.write(Buffer.alloc(65536, sent & 0xff))) return void res.once('drain', pump);
          }
          res.end();
        };
        return pump();
      }
      if (req.url === '/slow') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        res.write(Buffer.alloc(1000, 2));
        const timer = setInterval(() => res.write(Buffer.alloc(10, 3)), 20);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.writeHead(200, ['Content-Type', 'text/plain', 'Connection', 'close, X-Hop', 'X-Hop', 'drop me']);
      res.end(`${req.method} ok`);
    });
  });

  afterAll(async () => {
    await origin.close();
    await ca.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers malformed HTTP with 400 and keeps serving', async () => {
    await using server = new HTTPServer({ exchanger: new PlaybackHTTPClient(Archive.create()) });
    const { port } = await server.listen();
    for (let i = 0; i < 20; i++) {
      const reply = await raw(port, Buffer.concat([randomBytes(200), Buffer.from('\r\n\r\n')]));
      expect(reply === '' || reply.startsWith('HTTP/1.1 400')).toBe(true);
    }
    expect(await raw(port, 'GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length: nope\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 400/,
    );
    expect(
      await raw(port, 'GET / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
    ).toMatch(/^HTTP\/1\.1 400/);
    expect((await curl('http://a.test/after', port)).status).toBe(404);
  });

  it('survives garbage, plain HTTP and cut handshakes on the TLS port', async () => {
    await using server = new HTTPSServer({
      exchanger: new PlaybackHTTPClient(Archive.create()),
      certificates: ca,
    });
    const { port } = await server.listen();
    for (let i = 0; i < 20; i++) await raw(port, randomBytes(300));
    await raw(port, 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
    await raw(port, Buffer.from('16030100c8010000c40303', 'hex')); // a ClientHello cut short
    await raw(port, '');
    const file = join(dir, 'ca.pem');
    await writeFile(file, ca.rootCertificatePem);
    expect((await curl('https://a.test/after', port, ['--cacert', file])).status).toBe(404);
  });

  it('answers 502 when the upstream refuses and 504 when it stays silent', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const client = new HTTPClient({ lookup: loopbackLookup, timeoutMs: 300, allowLocalUpstreams: true });
    await using server = new HTTPServer({ exchanger: client });
    const { port } = await server.listen();
    const refused = await curl(`http://gone.test:${closedPort}/`, port);
    expect(refused.status).toBe(502);
    expect(headerOf(refused.headers, 'x-recall-error')).toBe('ERR_RECALL_UPSTREAM_CONNECT');
    const silent = await curl(`http://slow.test:${origin.port}/hang`, port);
    expect(silent.status).toBe(504);
    expect(headerOf(silent.headers, 'x-recall-error')).toBe('ERR_RECALL_UPSTREAM_TIMEOUT');
    await client.close();
    await client.close();
  });

  it('records nothing when the upstream dies mid-body or the client leaves mid-body', async () => {
    const archive = Archive.create();
    const recorder = new ArchivingHTTPClient(
      new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true }),
      { archive },
    );
    await using server = new HTTPServer({ exchanger: recorder });
    const { port } = await server.listen();
    const agent = redirectingAgent(port);
    const reset = await fetch(`http://o.test:${origin.port}/reset`, { dispatcher: agent });
    await expect(reset.arrayBuffer()).rejects.toThrow();
    const controller = new AbortController();
    const slow = await fetch(`http://o.test:${origin.port}/slow`, {
      dispatcher: agent,
      signal: controller.signal,
    });
    const reader = slow.body!.getReader();
    await reader.read();
    controller.abort();
    await until(() => recorder.inFlight === 0);
    expect(archive.size).toBe(0);
    const ok = await fetch(`http://o.test:${origin.port}/fine`, { dispatcher: agent });
    expect(await ok.text()).toBe('GET ok');
    expect(archive.size).toBe(1);
    await agent.close();
    await recorder.close();
  });

  it('stops waiting for the upstream of a client that left, and only for that client', async () => {
    const aborted: string[] = [];
    const waiting = {
      exchange: (request: { target: string }, options?: { signal?: AbortSignal }) =>
        new Promise<never>((_, reject) =>
          options?.signal?.addEventListener('abort', () => {
            aborted.push(request.target);
            reject(new Error('client left'));
          }),
        ),
      close: async () => {},
    };
    await using server = new HTTPServer({ exchanger: waiting });
    const { port } = await server.listen();
    const open = (target: string) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(`GET ${target} HTTP/1.1\r\nHost: w.test\r\n\r\n`),
      );
      socket.on('error', () => undefined);
      return socket;
    };
    const leaving = open('/leaves');
    const staying = open('/stays');
    await new Promise((r) => setTimeout(r, 200));
    leaving.destroy();
    await until(() => aborted.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(aborted).toEqual(['/leaves']);
    staying.destroy();
    await until(() => aborted.length === 2);
  });

  it('streams a large body to a slow reader without piling up listeners', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    const client = new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true });
    await using server = new HTTPServer({ exchanger: client });
    const { port } = await server.listen();
    const received = await new Promise<number>((resolve) => {
      let bytes = 0;
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(`GET /big HTTP/1.1\r\nHost: o.test:${origin.port}\r\nConnection: close\r\n\r\n`),
      );
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        socket.pause(); // a slow reader: the proxy must wait for 'drain' again and again
        setTimeout(() => socket.resume(), 1);
      });
      socket.on('close', () => resolve(bytes));
    });
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(received).toBeGreaterThan(256 * 65536);
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    await client.close();
  });

  it('forwards every method and drops hop-by-hop headers both ways', async () => {
    const client = new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true });
    await using server = new HTTPServer({ exchanger: client });
    const { port } = await server.listen();
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND']) {
      seen.length = 0;
      const result = await curl(`http://o.test:${origin.port}/m`, port, [
        '-X',
        method,
        '-H',
        'Connection: X-Private',
        '-H',
        'X-Private: secret',
        '-H',
        'Keep-Alive: 5',
        '-H',
        'X-Kept: yes',
      ]);
      expect(result.body.toString()).toBe(`${method} ok`);
      expect(headerOf(result.headers, 'x-hop')).toBeUndefined();
      const names = seen[0]!.headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
      expect(names).toContain('x-kept');
      expect(names).not.toContain('x-private');
      expect(seen[0]!.method).toBe(method);
    }
    await client.close();
  });

  it('answers Expect: 100-continue before the body is sent', async () => {
    const client = new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true });
    await using server = new HTTPServer({ exchanger: client });
    const { port } = await server.listen();
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /m HTTP/1.1\r\nHost: o.test:${origin.port}\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
        );
      });
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        if (text === 'HTTP/1.1 100 Continue\r\n\r\n') socket.write('hello');
      });
      socket.on('close', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*\r\nPOST ok\r\n/);
    await client.close();
  });

  it('refuses a request for its own address instead of looping', async () => {
    const client = new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true });
    await using server = new HTTPServer({ exchanger: client });
    const { port } = await server.listen();
    const loop = await curl(`http://127.0.0.1:${port}/`, port);
    expect(loop.status).toBe(508);
    expect(headerOf(loop.headers, 'x-recall-error')).toBe('ERR_RECALL_LOOP');
    await client.close();
  });

  it('answers oversized headers 431, and a valid request before garbage still gets its answer', async () => {
    await using server = new HTTPServer({ exchanger: new PlaybackHTTPClient(Archive.create()) });
    const { port } = await server.listen();
    const huge = await raw(port, `GET / HTTP/1.1\r\nHost: a.test\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    const pipelined = await raw(port, 'GET /valid HTTP/1.1\r\nHost: a.test\r\n\r\n\x00\x01garbage\r\n\r\n');
    expect(pipelined).toMatch(/^HTTP\/1\.1 404 /); // the archive's answer (a miss) to the valid request
  });

  it('refuses Expect: 100-continue with a body over the limit with 413, without 100 Continue', async () => {
    await using server = new HTTPServer({
      exchanger: new PlaybackHTTPClient(Archive.create()),
      maxRequestBodyBytes: 1024,
    });
    const { port } = await server.listen();
    const reply = await raw(
      port,
      'POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10485760\r\nExpect: 100-continue\r\n\r\n',
    );
    expect(reply).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(reply).not.toContain('100 Continue');
  });

  it('answers a recorded header with CR/LF as a proper 502, with its reason phrase', async () => {
    const exchanger = {
      exchange: async () => ({
        status: 200,
        statusText: 'OK',
        httpVersion: '1.1',
        headers: [['X-Evil', 'a\r\nX-Injected: 1']] as Array<[string, string]>,
        body: bodyOf(Buffer.from('hi')),
      }),
      close: async () => {},
    };
    await using server = new HTTPServer({ exchanger });
    const { port } = await server.listen();
    const reply = await raw(port, 'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(reply).not.toContain('X-Injected');
  });

  it('listens on port 0, reports the bound port, and closes idempotently', async () => {
    const server = new HTTPServer({ exchanger: new PlaybackHTTPClient(Archive.create()) });
    const bound = await server.listen();
    expect(bound.port).toBeGreaterThan(0);
    expect(server.address().port).toBe(bound.port);
    await Promise.all([server.close(), server.close()]);
    await server.close();
    await expect(raw(bound.port, 'GET / HTTP/1.1\r\n\r\n')).resolves.toBe('');
  });
});
