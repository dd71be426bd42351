// The lab internet's gRPC site on loopback: a TLS listener offering h2 (as the internet's :443 does) hands each
// decrypted connection to the site's connection injector, and a real @grpc/grpc-js client loaded from the shipped
// server/lab/lab-grpc.proto makes a unary call and all three streaming kinds.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GRPC_HOST,
  LAB_GRPC_DESCRIPTOR,
  LAB_GRPC_LOAD_OPTIONS,
  MAX_COUNT,
  startGrpcSite,
  type GrpcSite,
} from '../../server/lab/internet-grpc.js';
import { createTestCa } from '../recall/http-fixtures.js';
import { labEchoClient, labEchoExercise, LAB_ECHO_EXPECTED, type LabEchoClient } from '../helpers/lab-grpc-client.js';

const PROTO = fileURLToPath(new URL('../../server/lab/lab-grpc.proto', import.meta.url));

describe('the lab gRPC site behind a TLS listener', () => {
  const ca = createTestCa('Lab Public CA');
  let site: GrpcSite;
  let listener: tls.Server;
  let client: LabEchoClient;

  beforeAll(async () => {
    site = startGrpcSite();
    listener = tls.createServer({ ...ca.issue(GRPC_HOST), ALPNProtocols: ['h2'] }, (socket) =>
      site.injectConnection(socket),
    );
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const { port } = listener.address() as AddressInfo;
    client = labEchoClient(PROTO, `127.0.0.1:${port}`, ca.pem);
  });

  afterAll(async () => {
    client?.close();
    await site?.close();
    listener?.close();
  });

  it('ships a .proto that defines the same service and messages as the site serves', () => {
    const shipped = protoLoader.loadSync(PROTO, LAB_GRPC_LOAD_OPTIONS);
    const served = protoLoader.fromJSON(LAB_GRPC_DESCRIPTOR, LAB_GRPC_LOAD_OPTIONS);
    const methods = (definition: protoLoader.PackageDefinition): unknown =>
      Object.values(definition['lab.Echo'] as protoLoader.ServiceDefinition).map((m) => ({
        path: m.path,
        requestStream: m.requestStream,
        responseStream: m.responseStream,
        request: m.requestType.type,
        response: m.responseType.type,
      }));
    expect(methods(served)).toEqual(methods(shipped));
    expect((served['lab.Note'] as protoLoader.MessageTypeDefinition<object, object>).type).toEqual(
      (shipped['lab.Note'] as protoLoader.MessageTypeDefinition<object, object>).type,
    );
  });

  it('answers a unary call, all three streaming kinds and a failure status over the injected TLS connection', async () => {
    expect(await labEchoExercise(client)).toEqual(LAB_ECHO_EXPECTED);
  });

  it(`bounds a server stream at ${MAX_COUNT} notes`, async () => {
    const notes: unknown[] = [];
    await new Promise<void>((resolve, reject) =>
      client
        .count({ text: 'n', number: 1_000_000 })
        .on('data', (note: unknown) => notes.push(note))
        .on('end', resolve)
        .on('error', reject),
    );
    expect(notes.length).toBe(MAX_COUNT);
  });

  it('serves no more calls once closed', async () => {
    await site.close();
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.say({ text: 'late', number: 0 }, { deadline: Date.now() + 5000 }, (e) => resolve(e)),
    );
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
  });
});
