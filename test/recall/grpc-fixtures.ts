// A real @grpc/grpc-js echo service (test/fixtures/grpc/echo.proto: a unary call and all three streaming kinds)
// and clients that reach it through Recall's HTTPS interceptor on loopback, for the gRPC record/playback tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { CertificateAuthority } from '../../lib/recall/index.js';
import { createTestCa, type TestCa } from './http-fixtures.js';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { EchoCalls, Note } from '../helpers/grpc-echo-calls.js';

export { pingPong, type Note } from '../helpers/grpc-echo-calls.js';

export type EchoClient = grpc.Client &
  EchoCalls & {
    collectUntil(callback: (error: grpc.ServiceError | null, reply?: Note) => void): grpc.ClientWritableStream<Note>;
  };

const definition = protoLoader.loadSync(join(import.meta.dirname, '../fixtures/grpc/echo.proto'), { defaults: true });
export const Echo = (grpc.loadPackageDefinition(definition).recalltest as grpc.GrpcObject).Echo as grpc.ServiceClientConstructor;

export interface EchoServer {
  port: number;
  server: grpc.Server;
  /**
   * Chat calls that are over. A chat ends only when its client half-closes or cancels: through Recall, one the
   * client cancelled is over only if Recall cancelled it upstream too.
   */
  readonly closedChats: number;
}

/** The echo service over TLS on 127.0.0.1 (a random port). */
export async function startEchoServer(tlsOptions: { key: string; cert: string }): Promise<EchoServer> {
  let said = 0;
  let closedChats = 0;
  const server = new grpc.Server();
  server.addService(Echo.service, {
    say: (call: grpc.ServerUnaryCall<Note, Note>, callback: grpc.sendUnaryData<Note>) => {
      if (call.request.text === 'fail') return callback({ code: grpc.status.FAILED_PRECONDITION, details: 'told to fail' });
      if (call.request.text === 'secret') {
        // A credential in the trailers (trailing metadata), as some services send a refreshed token.
        const trailing = new grpc.Metadata();
        trailing.set('authorization', 'Bearer s3cret-token');
        trailing.set('x-trace', 'kept');
        return callback(null, { text: 'said secret', number: 0 }, trailing);
      }
      callback(null, { text: `said ${call.request.text}`, number: ++said });
    },
    count: (call: grpc.ServerWritableStream<Note, Note>) => {
      for (let i = 1; i <= call.request.number; i++) call.write({ text: `${call.request.text} ${i}`, number: i });
      call.end();
    },
    collect: (call: grpc.ServerReadableStream<Note, Note>, callback: grpc.sendUnaryData<Note>) => {
      const texts: string[] = [];
      call.on('data', (note: Note) => texts.push(note.text));
      call.on('end', () => callback(null, { text: texts.join('+'), number: texts.length }));
    },
    collectUntil: (call: grpc.ServerReadableStream<Note, Note>, callback: grpc.sendUnaryData<Note>) => {
      const texts: string[] = [];
      call.on('data', (note: Note) => {
        if (note.text !== 'stop') return void texts.push(note.text);
        callback(null, { text: texts.join('+'), number: texts.length });
      });
    },
    chat: (call: grpc.ServerDuplexStream<Note, Note>) => {
      call.on('data', (note: Note) => call.write({ text: `echo ${note.text}`, number: note.number * 10 }));
      call.on('end', () => call.end());
      call.on('close', () => closedChats++);
    },
  });
  const credentials = grpc.ServerCredentials.createSsl(null, [
    { private_key: Buffer.from(tlsOptions.key), cert_chain: Buffer.from(tlsOptions.cert) },
  ]);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    port,
    server,
    get closedChats() {
      return closedChats;
    },
  };
}

/** A client for `grpc.test:originPort` that connects to Recall at `recallPort` (as a lab's redirect would). */
export function clientVia(recallPort: number, originPort: number, caPem: string): EchoClient {
  return new Echo(`127.0.0.1:${recallPort}`, grpc.credentials.createSsl(Buffer.from(caPem)), {
    'grpc.ssl_target_name_override': 'grpc.test',
    'grpc.default_authority': `grpc.test:${originPort}`,
  }) as unknown as EchoClient;
}

/** A client-streaming CollectUntil: sends the notes, then waits for the answer before it half-closes. */
export function collectUntilStop(client: EchoClient, texts: string[]): Promise<Note> {
  return new Promise((resolve, reject) => {
    const call = client.collectUntil((error, reply) => {
      call.end();
      if (error) reject(error);
      else resolve(reply!);
    });
    for (const text of texts) call.write({ text, number: 0 });
  });
}

/** What a gRPC test file runs against: a temporary folder, the lab CA, Recall's CA and an Echo origin (grpc.test). */
export interface EchoStage {
  readonly dir: string;
  readonly labCa: TestCa;
  readonly ca: CertificateAuthority;
  readonly origin: EchoServer;
}

/** Sets the stage before the file's tests and takes it down after them; its members exist inside tests and hooks. */
export function useEchoStage(prefix: string): EchoStage {
  const stage = {} as { dir: string; labCa: TestCa; ca: CertificateAuthority; origin: EchoServer };
  beforeAll(async () => {
    stage.dir = await mkdtemp(join(tmpdir(), prefix));
    stage.labCa = createTestCa('Lab Public CA');
    stage.ca = await CertificateAuthority.open('/O=Recall Test', { dir: join(stage.dir, 'ca') });
    stage.origin = await startEchoServer(stage.labCa.issue('grpc.test'));
  });
  afterAll(async () => {
    stage.origin?.server.forceShutdown();
    await stage.ca?.close();
    if (stage.dir) await rm(stage.dir, { recursive: true, force: true });
  });
  return stage;
}
