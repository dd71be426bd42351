// Response trailers go through the same scrubbing as headers: an HTTP/2 origin (node:http2) and a gRPC service
// (@grpc/grpc-js, trailing metadata) sending credentials and cookies in their trailers, recorded through the
// HTTPS interceptor with the default scrub: the live client gets them as sent, the archive file never holds them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  Archive,
  ArchivingHTTPClient,
  CertificateAuthority,
  H2UpstreamClient,
  HTTPClient,
  HTTPSServer,
  UpstreamProtocolProbe,
  type ScrubMode,
} from '../../lib/recall/index.js';
import { createTestCa, loopbackLookup, type TestCa } from './http-fixtures.js';
import { h2Request, h2Session, startH2Origin, type H2Origin } from './h2-fixtures.js';
import { clientVia, startEchoServer, type EchoServer, type Note } from './grpc-fixtures.js';

const SECRET_TRAILERS = { 'set-cookie': 'sid=s3cret-cookie', authorization: 'Bearer s3cret-token', 'x-checksum': 'c0ffee' };

describe('trailer scrubbing', () => {
  let dir: string;
  let labCa: TestCa;
  let ca: CertificateAuthority;
  let h2Origin: H2Origin;
  let grpcOrigin: EchoServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-trailer-scrub-'));
    labCa = createTestCa('Lab Public CA');
    ca = await CertificateAuthority.open('/O=Recall Test', { dir: join(dir, 'ca') });
    h2Origin = await startH2Origin(labCa.issue('h2.test'), (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(SECRET_TRAILERS));
      stream.end('body before trailers');
    });
    grpcOrigin = await startEchoServer(labCa.issue('grpc.test'));
  });

  afterAll(async () => {
    await h2Origin.close();
    grpcOrigin.server.forceShutdown();
    await ca.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Records one h2 request and one gRPC call with `scrub`; returns what the clients got and the saved archive. */
  async function record(scrub: ScrubMode | undefined): Promise<{ h2Trailers: unknown; grpcTrailer: unknown; file: string }> {
    const archive = Archive.create();
    const upstream = { extraCAs: [labCa.pem], lookup: loopbackLookup, allowLocalUpstreams: true };
    const ports: Record<string, number> = { 'h2.test': h2Origin.port, 'grpc.test': grpcOrigin.port };
    const probe = new UpstreamProtocolProbe({ ...upstream, archive, portOf: (host) => ports[host] ?? 443 });
    const recorder = new ArchivingHTTPClient(new H2UpstreamClient({ ...upstream, inner: new HTTPClient(upstream), protocols: probe }), {
      archive,
      ...(scrub ? { scrub } : {}),
    });
    await using server = new HTTPSServer({ exchanger: recorder, certificates: ca, protocols: probe });
    const { port } = await server.listen();
    const session = h2Session('h2.test', port, ca.rootCertificatePem);
    const answer = await h2Request(session, { ':path': '/t', ':authority': `h2.test:${h2Origin.port}` });
    session.close();
    const client = clientVia(port, grpcOrigin.port, ca.rootCertificatePem);
    const grpcTrailer = await new Promise<unknown>((resolve, reject) => {
      const call = client.say({ text: 'secret', number: 0 }, (error: grpc.ServiceError | null, reply?: Note) => void (error ? reject(error) : expect(reply?.text).toBe('said secret')));
      call.on('status', (status: grpc.StatusObject) => resolve(status.metadata.get('authorization')));
    });
    client.close();
    const file = join(dir, `${scrub ?? 'default'}.har`);
    await archive.save(file);
    await recorder.close();
    return { h2Trailers: answer.trailers, grpcTrailer, file };
  }

  it('stores credentials and cookies sent in trailers as [scrubbed] by default; the client gets them as sent', async () => {
    const { h2Trailers, grpcTrailer, file } = await record(undefined);
    expect(h2Trailers).toMatchObject({ ...SECRET_TRAILERS, 'set-cookie': [SECRET_TRAILERS['set-cookie']] });
    expect(grpcTrailer).toEqual(['Bearer s3cret-token']);
    const text = await readFile(file, 'utf8');
    expect(text).not.toMatch(/s3cret/);
    const archive = await Archive.load(file);
    const h2 = archive.exchanges.find((e) => e.request.host.startsWith('h2.test'))!;
    expect(h2.response.trailers).toEqual([
      ['set-cookie', '[scrubbed]'],
      ['authorization', '[scrubbed]'],
      ['x-checksum', 'c0ffee'],
    ]);
    const call = archive.exchanges.find((e) => e.request.host.startsWith('grpc.test'))!;
    expect(call.response.trailers).toEqual(expect.arrayContaining([['authorization', '[scrubbed]'], ['x-trace', 'kept'], ['grpc-status', '0']]));
  });

  it('scrubs them with scrub all too (which also scrubs Set-Cookie headers)', async () => {
    const archive = await Archive.load((await record('all')).file);
    expect(archive.exchanges.flatMap((e) => e.response.trailers ?? []).filter(([name]) => name === 'authorization' || name === 'set-cookie')).toEqual([
      ['set-cookie', '[scrubbed]'],
      ['authorization', '[scrubbed]'],
      ['authorization', '[scrubbed]'],
    ]);
  });

  it('stores them in clear with scrub none', async () => {
    const { file } = await record('none');
    const archive = await Archive.load(file);
    expect(archive.exchanges.flatMap((e) => e.response.trailers ?? []).filter(([name]) => name === 'authorization')).toEqual([
      ['authorization', 'Bearer s3cret-token'],
      ['authorization', 'Bearer s3cret-token'],
    ]);
  });
});
