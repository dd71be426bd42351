// Recall's certificate authority against real TLS clients: Node's tls.connect, openssl verify and curl.
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../lib/recall/tls/certificate-authority.js';

const run = promisify(execFile);
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'recall-ca-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function httpsServer(ca: CertificateAuthority): Promise<number> {
  const server = https.createServer({ SNICallback: ca.sniCallback }, (req, res) =>
    res.end(`hello ${req.headers.host}`),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

function handshake(options: tls.ConnectionOptions): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(options, () => {
      const peer = socket.getPeerCertificate();
      socket.destroy();
      resolve(peer);
    });
    socket.once('error', reject);
  });
}

describe('CertificateAuthority', () => {
  it('persists its root with private modes and reuses it on reopen', async () => {
    const dir = join(await tempDir(), 'ca');
    const first = await CertificateAuthority.open('/O=Recall Test/OU=Lab', { dir });
    expect(first.createdRoot).toBe(true);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(first.rootKeyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(first.rootCertificateFile)).mode & 0o777).toBe(0o644);
    expect(await readFile(first.rootCertificateFile, 'utf8')).toBe(first.rootCertificatePem);
    const root = new X509Certificate(first.rootCertificatePem);
    expect(root.ca).toBe(true);
    expect(root.subject).toBe('O=Recall Test\nOU=Lab\nCN=Recall Test Root CA');
    expect(Buffer.compare(first.rootCertificateDer, root.raw)).toBe(0);

    const second = await CertificateAuthority.open('/O=Something Else', { dir });
    expect(second.createdRoot).toBe(false);
    expect(second.rootCertificatePem).toBe(first.rootCertificatePem);
    // A leaf from the reopened CA verifies against the first root: record and playback share the device's trust.
    const leaf = new X509Certificate((await second.certificateFor('www.example.test')).certPem);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.checkIssued(root)).toBe(true);
  });

  it('opening one folder concurrently yields one root', async () => {
    const dir = await tempDir();
    const cas = await Promise.all([1, 2, 3].map(() => CertificateAuthority.open('/O=Race', { dir })));
    expect(new Set(cas.map((ca) => ca.rootCertificatePem)).size).toBe(1);
    expect(cas.filter((ca) => ca.createdRoot)).toHaveLength(1);
  });

  it('serves a leaf per SNI name that tls.connect accepts with the root as its only CA', async () => {
    const ca = await CertificateAuthority.open('/O=Recall Test', { dir: await tempDir() });
    const port = await httpsServer(ca);
    for (const name of ['www.example.test', 'Other.Example.TEST', 'localhost']) {
      const peer = await handshake({ host: '127.0.0.1', port, servername: name, ca: ca.rootCertificatePem });
      expect(peer.subject.CN).toBe(name.toLowerCase());
      expect(peer.subjectaltname).toBe(`DNS:${name.toLowerCase()}`);
    }
    // Node checks the name too: a certificate for another name is refused.
    await expect(
      handshake({
        host: '127.0.0.1',
        port,
        servername: 'a.test',
        ca: ca.rootCertificatePem,
        checkServerIdentity: (_h, cert) => tls.checkServerIdentity('b.test', cert),
      }),
    ).rejects.toThrow(/b\.test/);
    // Without our root the chain is not trusted.
    await expect(
      handshake({ host: '127.0.0.1', port, servername: 'www.example.test' }),
    ).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('gives IP addresses an iPAddress subjectAltName', async () => {
    const ca = await CertificateAuthority.open('/O=Recall Test', { dir: await tempDir() });
    const leaf = await ca.certificateFor('127.0.0.1');
    const server = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const peer = await handshake({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      ca: ca.rootCertificatePem,
    });
    expect(peer.subjectaltname).toBe('IP Address:127.0.0.1');
    const v6 = new X509Certificate((await ca.certificateFor('[2001:DB8::1]')).certPem);
    expect(v6.subjectAltName).toBe('IP Address:2001:DB8:0:0:0:0:0:1');
  });

  it('mints leaves browsers accept: SHA-256, serverAuth, backdated, at most 397 days, unique serials, one shared key', async () => {
    const ca = await CertificateAuthority.open('/O=Recall Test', { dir: await tempDir() });
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, () => ca.certificateFor('same.example.test')),
    );
    expect(new Set(concurrent.map((c) => c.certPem)).size).toBe(1);
    const names = Array.from({ length: 20 }, (_, i) => `host${i}.example.test`);
    const leaves = await Promise.all(names.map((name) => ca.certificateFor(name)));
    const certs = leaves.map((l) => new X509Certificate(l.certPem));
    expect(new Set(certs.map((c) => c.serialNumber)).size).toBe(20);
    expect(new Set(leaves.map((l) => l.keyPem)).size).toBe(1);
    const now = Date.now();
    for (const cert of certs) {
      const from = Date.parse(cert.validFrom);
      const to = Date.parse(cert.validTo);
      expect(from).toBeLessThanOrEqual(now - 23 * 3600_000);
      expect(to - from).toBeLessThanOrEqual(397 * 86_400_000);
      expect(to).toBeGreaterThan(now + 300 * 86_400_000);
      expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
      expect(cert.ca).toBe(false);
    }
    const dir = await tempDir();
    await writeFile(join(dir, 'leaf.pem'), leaves[0]?.certPem ?? '');
    const { stdout: text } = await run('openssl', ['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-text']);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).toMatch(/Public-Key: \(256 bit\)[\s\S]*ASN1 OID: prime256v1/);
    // The leaf names its issuer by the root's key identifier: SHA-1 of the root's RSAPublicKey (RFC 5280 method 1).
    const rootText = (await run('openssl', ['x509', '-in', ca.rootCertificateFile, '-noout', '-text'])).stdout;
    const keyId = (label: string, from: string) => new RegExp(`${label}:\\s*\\n\\s*([0-9A-F:]+)`).exec(from)?.[1];
    const rsaPublicKey = createPublicKey(ca.rootCertificatePem).export({ type: 'pkcs1', format: 'der' });
    const expectedId = createHash('sha1').update(rsaPublicKey).digest('hex').toUpperCase().match(/../g)!.join(':');
    expect(keyId('X509v3 Subject Key Identifier', rootText)).toBe(expectedId);
    expect(keyId('X509v3 Authority Key Identifier', text)).toBe(expectedId);
    const { stdout: verified } = await run('openssl', [
      'verify',
      '-CAfile',
      ca.rootCertificateFile,
      '-verify_hostname',
      'host0.example.test',
      '-purpose',
      'sslserver',
      join(dir, 'leaf.pem'),
    ]);
    expect(verified.trim()).toBe(`${join(dir, 'leaf.pem')}: OK`);
    await expect(
      run('openssl', [
        'verify',
        '-CAfile',
        ca.rootCertificateFile,
        '-verify_hostname',
        'evil.test',
        join(dir, 'leaf.pem'),
      ]),
    ).rejects.toThrow(/hostname mismatch/);
  });

  it('is trusted by curl given only the root', async () => {
    const ca = await CertificateAuthority.open('/O=Recall Test', { dir: await tempDir() });
    const port = await httpsServer(ca);
    const { stdout } = await run('curl', [
      '-sS',
      '--cacert',
      ca.rootCertificateFile,
      '--resolve',
      `shop.example.test:${port}:127.0.0.1`,
      `https://shop.example.test:${port}/`,
    ]);
    expect(stdout).toBe(`hello shop.example.test:${port}`);
  });

  it('refuses unusable names and subjects with typed errors', async () => {
    const ca = await CertificateAuthority.open('/O=Recall Test', { dir: await tempDir() });
    await expect(ca.certificateFor('bad name!')).rejects.toMatchObject({ code: 'ERR_CA_INVALID_HOSTNAME' });
    await expect(ca.secureContextFor('')).rejects.toMatchObject({ code: 'ERR_CA_INVALID_HOSTNAME' });
    const failing = await new Promise<Error | null>((resolve) =>
      ca.sniCallback('a..b', (error) => resolve(error)),
    );
    expect(failing).toMatchObject({ code: 'ERR_CA_INVALID_HOSTNAME' });
    // A 253-character name cannot be a CN: the certificate carries it in a critical subjectAltName only.
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.test`;
    const longLeaf = new X509Certificate((await ca.certificateFor(long)).certPem);
    expect(longLeaf.subjectAltName).toBe(`DNS:${long}`);
    await expect(CertificateAuthority.open('O=no slash', { dir: await tempDir() })).rejects.toMatchObject({
      code: 'ERR_CA_SUBJECT',
    });
    await expect(CertificateAuthority.open('/XX=unknown', { dir: await tempDir() })).rejects.toMatchObject({
      code: 'ERR_CA_SUBJECT',
    });
    await expect(
      CertificateAuthority.open('/O=x', { dir: await tempDir(), leafValidityDays: 800 }),
    ).rejects.toMatchObject({ code: 'ERR_CA_INVALID_OPTION' });
  });

  it('says clearly when the root files are unreadable or do not belong together', async () => {
    const one = await tempDir();
    const other = await tempDir();
    const a = await CertificateAuthority.open('/O=A', { dir: one });
    const b = await CertificateAuthority.open('/O=B', { dir: other });

    await writeFile(b.rootKeyFile, await readFile(a.rootKeyFile));
    await expect(CertificateAuthority.open('/O=B', { dir: other })).rejects.toMatchObject({
      code: 'ERR_CA_FILES_MISMATCH',
      message: /is not the key of/,
    });

    await writeFile(b.rootKeyFile, 'not a key');
    await expect(CertificateAuthority.open('/O=B', { dir: other })).rejects.toMatchObject({
      code: 'ERR_CA_FILES_UNREADABLE',
      message: /is not a PEM private key/,
    });

    await writeFile(b.rootCertificateFile, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    await writeFile(b.rootKeyFile, await readFile(a.rootKeyFile));
    await expect(CertificateAuthority.open('/O=B', { dir: other })).rejects.toMatchObject({
      code: 'ERR_CA_FILES_UNREADABLE',
    });

    await rm(a.rootCertificateFile);
    await expect(CertificateAuthority.open('/O=A', { dir: one })).rejects.toMatchObject({
      code: 'ERR_CA_FILES_MISMATCH',
      message: /does not/,
    });

    const file = join(await tempDir(), 'plain-file');
    await writeFile(file, '');
    await expect(CertificateAuthority.open('/O=A', { dir: join(file, 'ca') })).rejects.toMatchObject({
      code: 'ERR_CA_WRITE',
    });
  });
});
