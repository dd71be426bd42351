// gRPC through Recall with a real @grpc/grpc-js server and client (TLS, h2) and a .proto with a unary call and all
// three streaming kinds, on loopback: recorded through the HTTPS interceptor, then played back with the server
// stopped. Identical unary calls get their recorded answers in order; a miss is a gRPC status, not a hang.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  Archive,
  ArchivedProtocols,
  ArchivingHTTPClient,
  GrpcPlaybackClient,
  H2UpstreamClient,
  HTTPClient,
  HTTPSServer,
  PlaybackHTTPClient,
  UpstreamProtocolProbe,
} from '../../lib/recall/index.js';
import { loopbackLookup } from './http-fixtures.js';
import { clientVia, useEchoStage, type EchoClient } from './grpc-fixtures.js';
import { chatAll, collect, count, say } from '../helpers/grpc-echo-calls.js';

async function exercise(client: EchoClient): Promise<unknown[]> {
  return [
    await say(client, { text: 'hi', number: 0 }),
    await say(client, { text: 'hi', number: 0 }),
    await say(client, { text: 'other', number: 7 }),
    await count(client, { text: 'tick', number: 3 }),
    await collect(client, [{ text: 'a', number: 1 }, { text: 'b', number: 2 }]),
    await chatAll(client, [{ text: 'x', number: 1 }, { text: 'y', number: 2 }]),
    await say(client, { text: 'fail', number: 0 }).catch((error: grpc.ServiceError) => `${error.code} ${error.details}`),
  ];
}

const EXPECTED = [
  { text: 'said hi', number: 1 },
  { text: 'said hi', number: 2 },
  { text: 'said other', number: 3 },
  [
    { text: 'tick 1', number: 1 },
    { text: 'tick 2', number: 2 },
    { text: 'tick 3', number: 3 },
  ],
  { text: 'a+b', number: 2 },
  [
    { text: 'echo x', number: 10 },
    { text: 'echo y', number: 20 },
  ],
  `${grpc.status.FAILED_PRECONDITION} told to fail`,
];

describe('gRPC record and playback', () => {
  const stage = useEchoStage('recall-grpc-');

  it('records unary and all three streaming kinds from a grpc-js server, with statuses and trailers', async () => {
    const archive = Archive.create();
    const upstream = { extraCAs: [stage.labCa.pem], lookup: loopbackLookup, allowLocalUpstreams: true };
    const probe = new UpstreamProtocolProbe({ ...upstream, archive, portOf: () => stage.origin.port });
    const recorder = new ArchivingHTTPClient(
      new H2UpstreamClient({ ...upstream, inner: new HTTPClient(upstream), protocols: probe }),
      { archive },
    );
    await using server = new HTTPSServer({ exchanger: recorder, certificates: stage.ca, protocols: probe });
    const { port } = await server.listen();
    const client = clientVia(port, stage.origin.port, stage.ca.rootCertificatePem);
    expect(await exercise(client)).toEqual(EXPECTED);
    client.close();

    expect(archive.recall.alpn).toEqual({ 'grpc.test': 'h2' });
    const har = archive.toHar();
    const calls = har.log.entries.map((e) => e._recall?.grpc).filter((c) => c !== undefined);
    expect(calls.map((c) => c.method).sort()).toEqual([
      '/recalltest.Echo/Chat',
      '/recalltest.Echo/Collect',
      '/recalltest.Echo/Count',
      '/recalltest.Echo/Say',
      '/recalltest.Echo/Say',
      '/recalltest.Echo/Say',
      '/recalltest.Echo/Say',
    ]);
    const counted = calls.find((c) => c.method === '/recalltest.Echo/Count')!;
    expect([counted.responseMessages.length, counted.status, counted.trailersOnly]).toEqual([3, 0, false]);
    // A unary call: the client half-closed before the answer (what makes playback match it on its message).
    expect(calls.find((c) => c.method === '/recalltest.Echo/Say')!.events!.map((e) => e.type)).toEqual(['send', 'end', 'receive']);
    const failed = calls.find((c) => c.status === grpc.status.FAILED_PRECONDITION)!;
    expect([failed.trailersOnly, failed.message, failed.responseMessages]).toEqual([true, 'told to fail', []]);
    await archive.save(join(stage.dir, 'grpc.har'));
    await recorder.close();
  });

  it('plays back with the server stopped: same answers, identical unary calls in recorded order', async () => {
    stage.origin.server.forceShutdown();
    const archive = await Archive.load(join(stage.dir, 'grpc.har'));
    const playback = new PlaybackHTTPClient(archive);
    const grpcPlayback = new GrpcPlaybackClient(playback);
    await using server = new HTTPSServer({
      exchanger: grpcPlayback,
      certificates: stage.ca,
      protocols: new ArchivedProtocols(archive),
    });
    const { port } = await server.listen();
    const client = clientVia(port, stage.origin.port, stage.ca.rootCertificatePem);
    expect(await exercise(client)).toEqual(EXPECTED);
    expect([grpcPlayback.hits, grpcPlayback.unused()]).toEqual([7, []]);

    // Misses: an unknown message of a recorded method, and a method never recorded.
    const notFound = await say(client, { text: 'never said', number: 0 }).catch((error: grpc.ServiceError) => error);
    expect((notFound as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    expect((notFound as grpc.ServiceError).details).toMatch(/nearest recorded call: \/recalltest.Echo\/Say with message 0a026869/);
    client.close();
    const unknownMethod = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(stage.ca.rootCertificatePem)), {
      'grpc.ssl_target_name_override': 'grpc.test',
      'grpc.default_authority': `grpc.test:${stage.origin.port}`,
    });
    const unimplemented = await new Promise<grpc.ServiceError>((resolve) =>
      unknownMethod.makeUnaryRequest('/recalltest.Echo/Nope', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('x'), (error) => resolve(error!)),
    );
    expect(unimplemented.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(unimplemented.details).toContain('/recalltest.Echo/Say');
    unknownMethod.close();
    expect(playback.misses().map((m) => m.url)).toEqual([
      `https://grpc.test:${stage.origin.port}/recalltest.Echo/Say`,
      `https://grpc.test:${stage.origin.port}/recalltest.Echo/Nope`,
    ]);
  });
});
