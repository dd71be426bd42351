// Playback knows every HTTPS host of its archive before the first client: HTTPSServer.listen() makes their TLS
// contexts then, so no client's first handshake waits for a mint (issue 18).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { Archive, CertificateAuthority, HTTPSServer, PlaybackHTTPClient, playbackModeClients } from '../../lib/recall/index.js';

const exchange = (scheme: 'http' | 'https', host: string) => ({
  startedDateTime: new Date().toISOString(),
  timeMs: 1,
  request: {
    method: 'GET',
    scheme,
    host,
    target: '/',
    httpVersion: '1.1',
    headers: [['Host', host]] as [string, string][],
    body: Buffer.alloc(0),
  },
  response: {
    status: 200,
    statusText: 'OK',
    httpVersion: '1.1',
    headers: [['Content-Length', '2']] as [string, string][],
    body: Buffer.from('ok'),
  },
});

describe('certificates made before the first client in playback', () => {
  let dir: string;
  let ca: CertificateAuthority;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-prewarm-'));
    ca = await CertificateAuthority.open('/O=Recall Prewarm Test', { dir });
  });
  afterAll(async () => {
    await ca.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('asks for the context of each HTTPS archive host once at listen, and serves it without another mint', async () => {
    const archive = Archive.create();
    for (const [scheme, host] of [
      ['https', 'a.test'],
      ['https', 'B.test:8443'],
      ['https', 'a.test'],
      ['http', 'plain.test'],
    ] as const)
      await archive.add(exchange(scheme, host));
    const asked: string[] = [];
    const source = {
      rootCertificatePem: ca.rootCertificatePem,
      secureContextFor: (name: string) => {
        asked.push(name);
        return ca.secureContextFor(name);
      },
    };
    const server = new HTTPSServer({
      exchanger: new PlaybackHTTPClient(archive),
      certificates: source,
      port: 0,
    });
    const { port } = await server.listen();
    try {
      expect(asked.sort()).toEqual(['a.test', 'b.test']);
      const context = await ca.secureContextFor('b.test');
      expect(await ca.secureContextFor('b.test')).toBe(context); // made once, cached
      const subject = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect(
          { host: '127.0.0.1', port, servername: 'b.test', ca: ca.rootCertificatePem },
          () => {
            resolve(String(socket.getPeerCertificate().subject.CN));
            socket.destroy();
          },
        );
        socket.on('error', reject);
      });
      expect(subject).toBe('b.test');
    } finally {
      await server.close();
    }
  });

  it('does so behind the gRPC playback client that recall serve and test_RecallServer put in front', async () => {
    const archive = Archive.create();
    await archive.add(exchange('https', 'grpc-front.test'));
    const asked: string[] = [];
    const server = new HTTPSServer({
      exchanger: playbackModeClients(archive).http,
      certificates: { rootCertificatePem: ca.rootCertificatePem, secureContextFor: (name: string) => (asked.push(name), ca.secureContextFor(name)) },
      port: 0,
    });
    await server.listen();
    await server.close();
    expect(asked).toEqual(['grpc-front.test']);
  });

  it('record mode: makes a new name\'s certificate while the real server is still being asked for its protocol', async () => {
    const asked: string[] = [];
    let answerProtocol: () => void = () => undefined;
    let preparing: (name: string) => void = () => undefined;
    const prepareCalled = new Promise<string>((resolve) => (preparing = resolve));
    // Stands for UpstreamProtocolProbe, whose handshake with the real server takes a network round trip.
    const protocols = {
      prepare: (name: string) => {
        preparing(name);
        return new Promise<void>((resolve) => (answerProtocol = resolve));
      },
      chosen: () => 'http/1.1' as const,
    };
    const server = new HTTPSServer({
      exchanger: new PlaybackHTTPClient(Archive.create()),
      certificates: { rootCertificatePem: ca.rootCertificatePem, secureContextFor: (name: string) => (asked.push(name), ca.secureContextFor(name)) },
      protocols,
      port: 0,
    });
    const { port } = await server.listen();
    try {
      const connected = new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, servername: 'first-contact.test', ca: ca.rootCertificatePem, ALPNProtocols: ['http/1.1'] }, () => {
          resolve(String(socket.getPeerCertificate().subject.CN));
          socket.destroy();
        });
        socket.on('error', reject);
      });
      expect(await prepareCalled).toBe('first-contact.test');
      await new Promise((resolve) => setImmediate(resolve));
      expect(asked).toContain('first-contact.test'); // before the protocol is known
      answerProtocol();
      expect(await connected).toBe('first-contact.test');
    } finally {
      await server.close();
    }
  });
});
