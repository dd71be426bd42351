// HTTPS interception with the real CertificateAuthority: record from a real HTTPS origin signed by a "lab public"
// CA that HTTPClient trusts through extraCAs, play back with the origin stopped, curl (--cacert) and fetch (connect.ca).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import { fetch } from 'undici';
import {
  Archive,
  ArchivingHTTPClient,
  HTTPClient,
  HTTPSServer,
  HTTPServer,
  PlaybackHTTPClient,
  CertificateAuthority,
} from '../../lib/recall/index.js';
import {
  createTestCa,
  curl,
  headerOf,
  loopbackLookup,
  redirectingAgent,
  startOrigin,
  type Origin,
  type TestCa,
} from './http-fixtures.js';

const PAGE = gzipSync(Buffer.from('<html><body>secure page</body></html>'));

describe('HTTPS record and playback', () => {
  let dir: string;
  let labCa: TestCa;
  let ca: CertificateAuthority;
  let origin: Origin;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-https-'));
    labCa = createTestCa('Lab Public CA');
    ca = await CertificateAuthority.open('/O=Recall Test', { dir: join(dir, 'ca') });
    origin = await startOrigin((req, res) => {
      if (req.url === '/page') {
        res.writeHead(200, [
          'Content-Type',
          'text/html',
          'Content-Encoding',
          'gzip',
          'Content-Length',
          String(PAGE.length),
          'X-Served-By',
          'Origin',
        ]);
        res.end(PAGE);
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`you asked for ${req.url}`);
      }
    }, labCa.issue('secure.test'));
    url = `https://secure.test:${origin.port}`;
  });

  afterAll(async () => {
    await origin.close();
    await ca.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records through HTTPSServer with a per-host certificate, verifying the upstream with extraCAs', async () => {
    const archive = Archive.create();
    const recorder = new ArchivingHTTPClient(
      new HTTPClient({ extraCAs: [labCa.pem], lookup: loopbackLookup, allowLocalUpstreams: true }),
      { archive },
    );
    await using server = new HTTPSServer({ exchanger: recorder, certificates: ca });
    const { port } = await server.listen();
    const page = await curl(`${url}/page`, port, ['--cacert', await writeCa(dir, ca.rootCertificatePem)]);
    expect(page.status).toBe(200);
    expect(page.body).toEqual(PAGE);
    expect(headerOf(page.headers, 'X-Served-By')).toBe('Origin');
    const agent = redirectingAgent(port, ca.rootCertificatePem);
    const text = await fetch(`${url}/hello?x=1`, { dispatcher: agent });
    expect(await text.text()).toBe('you asked for /hello?x=1');
    await agent.close();
    expect(
      archive.exchanges.map((e) => `${e.request.scheme}://${e.request.host}${e.request.target}`),
    ).toEqual([`${url}/page`, `${url}/hello?x=1`]);
    await archive.save(join(dir, 'secure.har'));
    await recorder.close();
  });

  it('answers 502 when the upstream certificate is not trusted', async () => {
    const client = new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true });
    await using server = new HTTPSServer({ exchanger: client, certificates: ca });
    const { port } = await server.listen();
    const result = await curl(`${url}/page`, port, ['--cacert', await writeCa(dir, ca.rootCertificatePem)]);
    expect(result.status).toBe(502);
    expect(headerOf(result.headers, 'x-recall-error')).toBe('ERR_RECALL_UPSTREAM_CONNECT');
    await client.close();
  });

  it('plays back over HTTPS with the origin stopped', async () => {
    await origin.close();
    const playback = new PlaybackHTTPClient(await Archive.load(join(dir, 'secure.har')));
    await using server = new HTTPSServer({ exchanger: playback, certificates: ca });
    const { port } = await server.listen();
    // A client that takes gzip gets the recorded gzip bytes (one that does not would get them decoded).
    const caFile = await writeCa(dir, ca.rootCertificatePem);
    const page = await curl(`${url}/page`, port, ['--cacert', caFile, '-H', 'Accept-Encoding: gzip']);
    expect(page.status).toBe(200);
    expect(page.body).toEqual(PAGE);
    expect(headerOf(page.headers, 'content-encoding')).toBe('gzip');
    const agent = redirectingAgent(port, ca.rootCertificatePem);
    const text = await fetch(`${url}/hello?x=1`, { dispatcher: agent });
    expect(await text.text()).toBe('you asked for /hello?x=1');
    await agent.close();
    expect(playback.misses()).toEqual([]);
  });

  it('names the certificate from the address map when the client sends no SNI', async () => {
    const playback = new PlaybackHTTPClient(Archive.create());
    await using server = new HTTPSServer({
      exchanger: playback,
      certificates: ca,
      nameMap: { nameForAddress: (ip) => (ip === '127.0.0.1' ? 'mapped.test' : undefined) },
    });
    const { port } = await server.listen();
    const names = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect(
        { host: '127.0.0.1', port, ca: ca.rootCertificatePem, checkServerIdentity: () => undefined },
        () => {
          resolve(socket.getPeerCertificate().subjectaltname ?? '');
          socket.end();
        },
      );
      socket.on('error', reject);
    });
    expect(names).toBe('DNS:mapped.test');
  });

  it('serves the root certificate at /_recall/ca.pem and /_recall/ca.der, and nothing else by URL', async () => {
    await using server = new HTTPServer({
      exchanger: new PlaybackHTTPClient(Archive.create()),
      caCertificatePem: ca.rootCertificatePem,
    });
    const { port } = await server.listen();
    const pem = await curl('http://recall.test/_recall/ca.pem', port);
    expect(pem.body.toString()).toBe(ca.rootCertificatePem);
    const der = await curl('http://anything.test/_recall/ca.der', port);
    expect(der.body).toEqual(ca.rootCertificateDer);
    const other = await curl('http://recall.test/_recall/GetRootCertificate', port);
    expect(other.status).toBe(404);
    expect(headerOf(other.headers, 'x-recall-miss')).toBe(
      'GET http://recall.test/_recall/GetRootCertificate',
    );
  });
});

async function writeCa(dir: string, pem: string): Promise<string> {
  const file = join(dir, 'recall-ca.pem');
  await writeFile(file, pem);
  return file;
}
