/**
 * The lab internet's gRPC site, `grpc.lab.test` (h2 over TLS on :443): what Recall must record and replay of a
 * device's gRPC client. The service is server/lab/lab-grpc.proto's `lab.Echo`: a unary call and all three
 * streaming kinds, each answering deterministically, and one failure status.
 *
 * The internet's one TLS listener terminates TLS (the lab certificate names every site) and hands each h2
 * connection for this name to `injectConnection`; grpc-js serves it as cleartext h2 over that decrypted socket.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Duplex } from 'node:stream';

export const GRPC_HOST = 'grpc.lab.test';
/** The most notes `Count` sends, so one call cannot make the site stream without end. */
export const MAX_COUNT = 100;

export interface Note {
  text: string;
  number: number;
}

/**
 * lab-grpc.proto as protobuf.js JSON. The internet process runs from dist/ or from a bundle in the lab's folder,
 * where no path to the .proto is known, so the definition travels with the code; a test checks it is the .proto's.
 */
export const LAB_GRPC_DESCRIPTOR: Parameters<typeof protoLoader.fromJSON>[0] = {
  nested: {
    lab: {
      nested: {
        Note: {
          fields: { text: { type: 'string', id: 1 }, number: { type: 'int32', id: 2 } },
        },
        Echo: {
          methods: {
            Say: { requestType: 'Note', responseType: 'Note', comment: 'said <text>, number + 1' },
            Count: { requestType: 'Note', responseType: 'Note', responseStream: true, comment: '<text> 1..number' },
            Collect: { requestType: 'Note', responseType: 'Note', requestStream: true, comment: 'texts joined, sum' },
            Chat: {
              requestType: 'Note',
              responseType: 'Note',
              requestStream: true,
              responseStream: true,
              comment: 'echo <text>, number * 10',
            },
          },
        },
      },
    },
  },
};

/** Options both sides load the service with (proto-loader's defaults fill absent fields with '' and 0). */
export const LAB_GRPC_LOAD_OPTIONS: protoLoader.Options = { defaults: true };

function echoService(): grpc.ServiceDefinition {
  const definition = protoLoader.fromJSON(LAB_GRPC_DESCRIPTOR, LAB_GRPC_LOAD_OPTIONS);
  return definition['lab.Echo'] as grpc.ServiceDefinition;
}

const handlers: grpc.UntypedServiceImplementation = {
  Say(call: grpc.ServerUnaryCall<Note, Note>, callback: grpc.sendUnaryData<Note>) {
    const { text, number } = call.request;
    if (text === 'fail') return callback({ code: grpc.status.FAILED_PRECONDITION, details: 'told to fail' });
    callback(null, { text: `said ${text}`, number: number + 1 });
  },
  Count(call: grpc.ServerWritableStream<Note, Note>) {
    const { text, number } = call.request;
    for (let i = 1; i <= Math.min(number, MAX_COUNT); i++) call.write({ text: `${text} ${i}`, number: i });
    call.end();
  },
  Collect(call: grpc.ServerReadableStream<Note, Note>, callback: grpc.sendUnaryData<Note>) {
    const texts: string[] = [];
    let sum = 0;
    call.on('data', (note: Note) => {
      texts.push(note.text);
      sum += note.number;
    });
    call.on('end', () => callback(null, { text: texts.join('+'), number: sum }));
  },
  Chat(call: grpc.ServerDuplexStream<Note, Note>) {
    call.on('data', (note: Note) => call.write({ text: `echo ${note.text}`, number: note.number * 10 }));
    call.on('end', () => call.end());
  },
};

export interface GrpcSite {
  /** Serves one connection whose TLS is already terminated (ALPN h2) and whose first bytes are the h2 preface. */
  injectConnection(socket: Duplex): void;
  /** Ends every call and connection (gracefully for up to a second). */
  close(): Promise<void>;
}

export function startGrpcSite(): GrpcSite {
  const server = new grpc.Server();
  server.addService(echoService(), handlers);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  // grpc-js serves what is injected even after a shutdown, so a closed site refuses connections itself.
  let closed = false;
  return {
    injectConnection: (socket) => (closed ? socket.destroy() : injector.injectConnection(socket)),
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
