// HTTP/2 through the HTTPS interceptor, with real clients: an h2-only origin and an HTTP/1.1-only origin on
// loopback, recorded (the protocol each real server chose goes into log._recall.alpn), then played back with both
// origins stopped: curl --http2 / --http1.1, nghttp, Node's http2 client and fetch (undici with allowH2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, buildConnector, fetch } from 'undici';
import {
  Archive,
  ArchivedProtocols,
  ArchivingHTTPClient,
  CertificateAuthority,
  H2UpstreamClient,
  HTTPClient,
  HTTPSServer,
  PlaybackHTTPClient,
  UpstreamProtocolProbe,
} from '../../lib/recall/index.js';
import { createTestCa, loopbackLookup, startOrigin, type Origin, type TestCa } from './http-fixtures.js';
import { curlProtocol, h2Request, h2Session, nghttp, startH2Origin, type H2Origin } from './h2-fixtures.js';

const BIG = Buffer.alloc(3 * 1024 * 1024 + 17, 'abcdefghij'); // far past HTTP/2's 64 kB initial window

describe('HTTP/2 record and playback', () => {
  let dir: string;
  let labCa: TestCa;
  let ca: CertificateAuthority;
  let caFile: string;
  let h2Origin: H2Origin;
  let h1Origin: Origin;
  let h2Url: string;
  let h1Url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-h2-'));
    labCa = createTestCa('Lab Public CA');
    ca = await CertificateAuthority.open('/O=Recall Test', { dir: join(dir, 'ca') });
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, ca.rootCertificatePem);
    h2Origin = await startH2Origin(labCa.issue('h2.test'), (stream, headers) => {
      const path = headers[':path'];
      if (path === '/big') {
        stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
        stream.end(BIG);
      } else if (path === '/trailers') {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'c0ffee' }));
        stream.end('body before trailers');
      } else if (path === '/echo') {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          stream.respond({ ':status': 201, 'content-type': 'text/plain' });
          stream.end(`echo ${Buffer.concat(chunks).toString()}`);
        });
      } else {
        stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-served-by': 'h2-origin' });
        stream.end(`h2 page ${path}`);
      }
    });
    h1Origin = await startOrigin((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`h1 page ${req.url}`);
    }, labCa.issue('h1.test'));
    h2Url = `https://h2.test:${h2Origin.port}`;
    h1Url = `https://h1.test:${h1Origin.port}`;
  });

  afterAll(async () => {
    await h2Origin.close();
    await h1Origin.close();
    await ca.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records: speaks h2 with clients of the host whose server chose h2, HTTP/1.1 with the other', async () => {
    const archive = Archive.create();
    const upstream = { extraCAs: [labCa.pem], lookup: loopbackLookup, allowLocalUpstreams: true };
    const probe = new UpstreamProtocolProbe({
      ...upstream,
      archive,
      portOf: (host) => (host === 'h2.test' ? h2Origin.port : h1Origin.port),
    });
    const recorder = new ArchivingHTTPClient(
      new H2UpstreamClient({ ...upstream, inner: new HTTPClient(upstream), protocols: probe }),
      { archive },
    );
    await using server = new HTTPSServer({ exchanger: recorder, certificates: ca, protocols: probe });
    const { port } = await server.listen();

    const page = await curlProtocol(`${h2Url}/page`, port, '--http2', caFile);
    expect([page.version, page.status, page.body.toString()]).toEqual(['2', 200, 'h2 page /page']);
    const h1 = await curlProtocol(`${h1Url}/x`, port, '--http2', caFile);
    expect([h1.version, h1.body.toString()]).toEqual(['1.1', 'h1 page /x']);
    const old = await curlProtocol(`${h2Url}/old-client`, port, '--http1.1', caFile);
    expect([old.version, old.body.toString()]).toEqual(['1.1', 'h2 page /old-client']);
    const big = await curlProtocol(`${h2Url}/big`, port, '--http2', caFile);
    expect(big.body.equals(BIG)).toBe(true);
    const session = h2Session('h2.test', port, ca.rootCertificatePem);
    const withTrailers = await h2Request(session, { ':path': '/trailers', ':authority': `h2.test:${h2Origin.port}` });
    expect(withTrailers.body.toString()).toBe('body before trailers');
    expect(withTrailers.trailers?.['x-checksum']).toBe('c0ffee');
    const echo = await h2Request(
      session,
      { ':method': 'POST', ':path': '/echo', ':authority': `h2.test:${h2Origin.port}` },
      Buffer.from('hello h2'),
    );
    expect([echo.status, echo.body.toString()]).toEqual([201, 'echo hello h2']);
    session.close();

    expect(archive.recall.alpn).toEqual({ 'h2.test': 'h2', 'h1.test': 'http/1.1' });
    const recorded = archive.exchanges.find((e) => e.request.target === '/trailers');
    expect(recorded?.response.trailers).toEqual([['x-checksum', 'c0ffee']]);
    expect(recorded?.response.httpVersion).toBe('2.0');
    await archive.save(join(dir, 'h2.har'));
    await recorder.close();
  });

  it('plays back with the origins stopped, in the protocol recorded for each host', async () => {
    await h2Origin.close();
    await h1Origin.close();
    const archive = await Archive.load(join(dir, 'h2.har'));
    expect(archive.recall.alpn).toEqual({ 'h2.test': 'h2', 'h1.test': 'http/1.1' });
    const playback = new PlaybackHTTPClient(archive);
    await using server = new HTTPSServer({
      exchanger: playback,
      certificates: ca,
      protocols: new ArchivedProtocols(archive),
    });
    const { port } = await server.listen();

    const page = await curlProtocol(`${h2Url}/page`, port, '--http2', caFile);
    expect([page.version, page.status, page.body.toString()]).toEqual(['2', 200, 'h2 page /page']);
    const h1 = await curlProtocol(`${h1Url}/x`, port, '--http2', caFile);
    expect([h1.version, h1.body.toString()]).toEqual(['1.1', 'h1 page /x']);
    const big = await curlProtocol(`${h2Url}/big`, port, '--http2', caFile);
    expect(big.body.length).toBe(BIG.length);
    expect(big.body.equals(BIG)).toBe(true);

    const session = h2Session('h2.test', port, ca.rootCertificatePem);
    const withTrailers = await h2Request(session, { ':path': '/trailers', ':authority': `h2.test:${h2Origin.port}` });
    expect(withTrailers.trailers?.['x-checksum']).toBe('c0ffee');
    const echo = await h2Request(
      session,
      { ':method': 'POST', ':path': '/echo', ':authority': `h2.test:${h2Origin.port}` },
      Buffer.from('hello h2'),
    );
    expect([echo.status, echo.body.toString()]).toEqual([201, 'echo hello h2']);
    const miss = await h2Request(session, { ':path': '/never', ':authority': `h2.test:${h2Origin.port}` });
    expect(miss.status).toBe(404);
    expect(miss.body.toString()).toContain('not in the archive: GET https://h2.test');
    session.close();

    // nghttp (no SNI: it dials an address) gets h2 because it offers nothing else, and the trailers as a HEADERS frame.
    const ng = await nghttp(`${h2Url}/trailers`, port);
    expect(ng.log).toContain('body before trailers');
    expect(ng.log).toMatch(/recv HEADERS frame[^\n]*\n(?:.*\n)*?.*x-checksum: c0ffee/);

    // Node's fetch (undici) over h2.
    const connector = buildConnector({ ca: ca.rootCertificatePem, ALPNProtocols: ['h2', 'http/1.1'] } as buildConnector.BuildOptions);
    const agent = new Agent({
      allowH2: true,
      connect: (options, callback) =>
        connector({ ...options, hostname: '127.0.0.1', port: String(port), servername: 'h2.test' }, callback),
    });
    const fetched = await fetch(`${h2Url}/page`, { dispatcher: agent });
    expect(await fetched.text()).toBe('h2 page /page');
    expect(fetched.headers.get('x-served-by')).toBe('h2-origin');
    await agent.close();
    expect(playback.misses().map((m) => m.url)).toEqual([`${h2Url}/never`]);
  });

  it('takes the protocol of the mapped name for a client that sends no SNI', async () => {
    const archive = await Archive.load(join(dir, 'h2.har'));
    await using server = new HTTPSServer({
      exchanger: new PlaybackHTTPClient(archive),
      certificates: ca,
      protocols: new ArchivedProtocols(archive),
      nameMap: { nameForAddress: (ip) => (ip === '127.0.0.1' ? 'h2.test' : undefined) },
    });
    const { port } = await server.listen();
    // curl sends no SNI to an address; the Host header names the recorded host.
    const page = await curlProtocol(`https://127.0.0.1:${port}/page`, port, '--http2', caFile, [
      '-k',
      '-H',
      `Host: h2.test:${h2Origin.port}`,
    ]);
    expect([page.version, page.status, page.body.toString()]).toEqual(['2', 200, 'h2 page /page']);
  });

  it('lets an h2 stream in flight finish, and records it, when the server closes', async () => {
    let reached: () => void = () => undefined;
    const upstreamReached = new Promise<void>((resolve) => (reached = resolve));
    const slow = await startH2Origin(labCa.issue('slow.test'), (stream) => {
      reached();
      setTimeout(() => {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' });
        stream.end('worth the wait');
      }, 400);
    });
    const archive = Archive.create();
    await archive.journalTo(join(dir, 'slow.har'));
    const upstream = { extraCAs: [labCa.pem], lookup: loopbackLookup, allowLocalUpstreams: true };
    const probe = new UpstreamProtocolProbe({ ...upstream, archive, portOf: () => slow.port });
    const recorder = new ArchivingHTTPClient(
      new H2UpstreamClient({ ...upstream, inner: new HTTPClient(upstream), protocols: probe }),
      { archive },
    );
    const server = new HTTPSServer({ exchanger: recorder, certificates: ca, protocols: probe });
    const { port } = await server.listen();
    const session = h2Session('slow.test', port, ca.rootCertificatePem);
    const answer = h2Request(session, { ':path': '/wait', ':authority': `slow.test:${slow.port}` });
    await upstreamReached; // the exchange is in flight: Recall asked the origin
    const closed = server.close();
    expect((await answer).body.toString()).toBe('worth the wait');
    await closed;
    expect(archive.exchanges.map((e) => e.request.target)).toEqual(['/wait']);
    // The journal (what a killed recording leaves) has the protocol too.
    await archive.journal?.close();
    expect((await Archive.load(join(dir, 'slow.har.journal'))).recall.alpn).toEqual({ 'slow.test': 'h2' });
    session.destroy();
    await recorder.close();
    await slow.close();
  });

  it('recycles an HTTP/2 session after maxStreamsPerSession streams: GOAWAY, and a new session carries on', async () => {
    const archive = await Archive.load(join(dir, 'h2.har'));
    await using server = new HTTPSServer({
      exchanger: new PlaybackHTTPClient(archive),
      certificates: ca,
      protocols: new ArchivedProtocols(archive),
      maxStreamsPerSession: 3,
    });
    const { port } = await server.listen();
    const first = h2Session('h2.test', port, ca.rootCertificatePem);
    const goaway = new Promise<void>((resolve) => first.once('goaway', () => resolve()));
    const headers = { ':path': '/page', ':authority': `h2.test:${h2Origin.port}` };
    for (let i = 0; i < 3; i++) expect((await h2Request(first, headers)).status).toBe(200);
    await goaway;
    const second = h2Session('h2.test', port, ca.rootCertificatePem);
    expect((await h2Request(second, headers)).body.toString()).toBe('h2 page /page');
    second.close();
    first.destroy();
  });
});
