// Archives other tools export (test/fixtures/archives/foreign-hars.ts) play back through real Recall HTTP and
// HTTPS servers: every entry with its status and a body curl decodes byte for byte, with and without --compressed
// (re-encoded to the recorded coding when the client takes it, decoded without the header when not); blocked
// (status 0) entries are skipped with a warning. Issue 17.1, 17.2, 17.5.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { brotliDecompressSync } from 'node:zlib';
import { promisify } from 'node:util';
import {
  Archive,
  CertificateAuthority,
  DNSServer,
  HTTPSServer,
  HTTPServer,
  PlaybackDNSClient,
  PlaybackHTTPClient,
} from '../../lib/recall/index.js';
import {
  EXPECTATIONS,
  FOREIGN_ARCHIVES,
  archiveBytes,
  type Expectation,
} from '../fixtures/archives/foreign-hars.js';
import { curl, headerOf } from './http-fixtures.js';

let dir: string;
let ca: CertificateAuthority;
let caFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'recall-interop-'));
  ca = await CertificateAuthority.open('/O=Recall Interop Test', { dir: join(dir, 'ca') });
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.rootCertificatePem);
});

afterAll(async () => {
  await ca.close();
  await rm(dir, { recursive: true, force: true });
});

function curlArgs(e: Expectation, compressed: boolean): string[] {
  const args = ['--cacert', caFile, '-X', e.method];
  if (e.send) args.push('-H', `Content-Type: ${e.send.contentType}`, '--data-binary', e.send.body);
  if (compressed) args.push('--compressed');
  return args;
}

describe.each(Object.keys(FOREIGN_ARCHIVES))('an archive exported by %s', (source) => {
  it('loads, skipping only what cannot be played back, and plays every entry back decodable through curl', async () => {
    const file = join(dir, `${source}.har`);
    await writeFile(file, archiveBytes(source));
    const warnings: string[] = [];
    const archive = await Archive.load(file, { onWarning: (w) => warnings.push(w) });
    expect(archive.size).toBe(EXPECTATIONS.length);
    const hasBlocked =
      (FOREIGN_ARCHIVES[source]!.har.log as { entries: unknown[] }).entries.length > EXPECTATIONS.length;
    if (hasBlocked) expect(warnings.join('\n')).toContain('ads.tracker.test/pixel.js');
    const playback = new PlaybackHTTPClient(archive);
    await using http = new HTTPServer({ exchanger: playback });
    await using https = new HTTPSServer({ exchanger: playback, certificates: ca });
    const ports = { 'http:': (await http.listen()).port, 'https:': (await https.listen()).port };
    for (const e of EXPECTATIONS) {
      const port = ports[new URL(e.url).protocol as 'http:' | 'https:'];
      const plain = await curl(e.url, port, curlArgs(e, false));
      const what = `${source} ${e.method} ${e.url}`;
      expect(plain.status, what).toBe(e.status);
      expect(plain.body.equals(e.body), `${what}: body without --compressed`).toBe(true);
      expect(headerOf(plain.headers, 'content-encoding'), what).toBeUndefined();
      if (e.location) expect(headerOf(plain.headers, 'location'), what).toBe(e.location);
      const compressed = await curl(e.url, port, curlArgs(e, true));
      expect(compressed.status, what).toBe(e.status);
      expect(compressed.body.equals(e.body), `${what}: body with --compressed`).toBe(true);
      expect(headerOf(compressed.headers, 'content-encoding'), what).toBe(e.coding);
    }
    expect(playback.missCount).toBe(0);
  }, 120_000);
});

describe('DNS for an archive from another tool', () => {
  it('answers the hosts its entries name (a device must resolve them to connect), NXDOMAIN for the rest', async () => {
    const file = join(dir, 'chrome-dns.har');
    await writeFile(file, archiveBytes('chrome'));
    const archive = await Archive.load(file);
    expect(archive.recall.dns).toEqual([
      { name: 'static.shop.test', type: 'A', ttl: 300, data: ['203.0.113.1'] },
      { name: 'www.shop.test', type: 'A', ttl: 300, data: ['203.0.113.2'] },
    ]);
    await using dns = await DNSServer.start({
      resolver: new PlaybackDNSClient(archive.recall.dns),
      host: '127.0.0.1',
    });
    const dig = async (name: string) =>
      (
        await promisify(execFile)('dig', [
          '+short',
          '+tries=1',
          '+time=5',
          '-p',
          String(dns.port),
          '@127.0.0.1',
          name,
          'A',
        ])
      ).stdout.trim();
    expect(await dig('www.shop.test')).toBe('203.0.113.2');
    expect(await dig('ads.tracker.test')).toBe('');
    // Recall's own archives keep the answers they recorded (none here).
    const own = join(dir, 'v1-dns.har');
    await writeFile(own, archiveBytes('recall-v1'));
    expect((await Archive.load(own)).recall.dns).toEqual([]);
  });
});

describe('a binary body a browser stored decoded under br', () => {
  it('is not taken for brotli wire bytes even when it happens to parse as a brotli stream', () => {
    // About 4% of random binary parses as an empty brotli stream followed by ignored bytes: find such a body.
    let body = Buffer.alloc(0);
    for (let seed = 0; body.length === 0; seed++) {
      const candidate = Buffer.concat(
        Array.from({ length: 32 }, (_, i) => createHash('sha256').update(`${seed}/${i}`).digest()),
      );
      try {
        if (brotliDecompressSync(candidate).length === 0) body = candidate;
      } catch {
        // not a brotli stream: try the next one
      }
    }
    const har = structuredClone(FOREIGN_ARCHIVES.chrome!.har) as { log: { entries: any[] } };
    const logo = har.log.entries.find((e) => e.request.url.endsWith('/logo.gif'));
    logo.response.headers.push({ name: 'content-encoding', value: 'br' });
    logo.response.content = {
      size: body.length,
      mimeType: 'image/gif',
      text: body.toString('base64'),
      encoding: 'base64',
    };
    const exchange = Archive.fromHar(har, 'chrome.har').exchanges.find(
      (e) => e.request.target === '/logo.gif',
    )!;
    expect(exchange.response.decoded?.equals(body)).toBe(true);
    expect(brotliDecompressSync(exchange.response.body).equals(body)).toBe(true);
  });
});
