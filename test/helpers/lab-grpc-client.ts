// A real @grpc/grpc-js client of the lab internet's gRPC site (lab.Echo in server/lab/lab-grpc.proto), loaded with
// @grpc/proto-loader from the shipped .proto, and one fixed conversation with it (a unary call twice, a failure, and
// each streaming kind) whose answers are known. One bidi call writes all its notes, then half-closes, then reads; the
// other is ping-pong: each note waits for the answer to the one before.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { chatAll, collect, count, pingPong, say, type EchoCalls } from './grpc-echo-calls.js';

export type { Note } from './grpc-echo-calls.js';
export type LabEchoClient = grpc.Client & EchoCalls;

/** A client of grpc.lab.test reached at `address` (host:port), trusting `caPem` (the lab CA, or Recall's). */
export function labEchoClient(protoFile: string, address: string, caPem: string | Buffer): LabEchoClient {
  const definition = protoLoader.loadSync(protoFile, { defaults: true });
  const Echo = (grpc.loadPackageDefinition(definition).lab as grpc.GrpcObject).Echo as grpc.ServiceClientConstructor;
  return new Echo(address, grpc.credentials.createSsl(Buffer.from(caPem)), {
    'grpc.ssl_target_name_override': 'grpc.lab.test',
    'grpc.default_authority': 'grpc.lab.test',
  }) as unknown as LabEchoClient;
}

const DEADLINE_MS = 20_000;
const deadline = (): grpc.CallOptions => ({ deadline: Date.now() + DEADLINE_MS });

/** The conversation: unary calls one after the other while a client stream and a bidi stream run beside them. */
export async function labEchoExercise(client: LabEchoClient): Promise<unknown[]> {
  const unary = async (): Promise<unknown[]> => [
    await say(client, { text: 'hi', number: 1 }, deadline()),
    await say(client, { text: 'hi', number: 1 }, deadline()),
    await say(client, { text: 'fail', number: 0 }, deadline()).catch((e: grpc.ServiceError) => `${e.code} ${e.details}`),
  ];
  // One await for all three, so a failure of one leaves no rejection unhandled.
  const [unaryReplies, collected, chatReplies] = await Promise.all([
    unary(),
    collect(client, [
      { text: 'a', number: 1 },
      { text: 'b', number: 2 },
    ]),
    chatAll(client, [
      { text: 'x', number: 1 },
      { text: 'y', number: 2 },
    ]),
  ]);
  return [...unaryReplies, await count(client, { text: 'tick', number: 3 }), collected, chatReplies, await pingPong(client, ['ping', 'pong'])];
}

export const LAB_ECHO_EXPECTED: unknown[] = [
  { text: 'said hi', number: 2 },
  { text: 'said hi', number: 2 },
  `${grpc.status.FAILED_PRECONDITION} told to fail`,
  [
    { text: 'tick 1', number: 1 },
    { text: 'tick 2', number: 2 },
    { text: 'tick 3', number: 3 },
  ],
  { text: 'a+b', number: 3 },
  [
    { text: 'echo x', number: 10 },
    { text: 'echo y', number: 20 },
  ],
  [
    { text: 'echo ping', number: 10 },
    { text: 'echo pong', number: 20 },
  ],
];
