// A real @grpc/grpc-js client of the lab internet's gRPC site (lab.Echo in server/lab/lab-grpc.proto), loaded with
// @grpc/proto-loader from the shipped .proto, and one fixed conversation with it (a unary call twice, a failure, and
// each streaming kind) whose answers are known. One bidi call writes all its notes, then half-closes, then reads; the
// other is ping-pong: each note waits for the answer to the one before.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface Note {
  text: string;
  number: number;
}
export type LabEchoClient = grpc.Client & {
  Say(note: Note, callback: (error: grpc.ServiceError | null, reply?: Note) => void): void;
  Say(note: Note, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, reply?: Note) => void): void;
  Count(note: Note): grpc.ClientReadableStream<Note>;
  Collect(callback: (error: grpc.ServiceError | null, reply?: Note) => void): grpc.ClientWritableStream<Note>;
  Chat(): grpc.ClientDuplexStream<Note, Note>;
};

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

export const say = (client: LabEchoClient, note: Note): Promise<Note> =>
  new Promise((resolve, reject) =>
    client.Say(note, deadline(), (error, reply) => (error ? reject(error) : resolve(reply!))),
  );

function readAll(call: grpc.ClientReadableStream<Note> | grpc.ClientDuplexStream<Note, Note>): Promise<Note[]> {
  return new Promise((resolve, reject) => {
    const notes: Note[] = [];
    call.on('data', (n: Note) => notes.push(n)).on('end', () => resolve(notes)).on('error', reject);
  });
}

/** Chat one note at a time: writes a note, waits for its echo, then writes the next; half-closes at the end. */
function pingPong(client: LabEchoClient, notes: Note[]): Promise<Note[]> {
  return new Promise((resolve, reject) => {
    const call = client.Chat();
    const replies: Note[] = [];
    const next = (): void => {
      const note = notes[replies.length];
      if (note) call.write(note);
      else call.end();
    };
    call.on('data', (n: Note) => {
      replies.push(n);
      next();
    });
    call.on('end', () => resolve(replies)).on('error', reject);
    next();
  });
}

/** The conversation: unary calls one after the other while a client stream and a bidi stream run beside them. */
export async function labEchoExercise(client: LabEchoClient): Promise<unknown[]> {
  const unary = async (): Promise<unknown[]> => [
    await say(client, { text: 'hi', number: 1 }),
    await say(client, { text: 'hi', number: 1 }),
    await say(client, { text: 'fail', number: 0 }).catch((e: grpc.ServiceError) => `${e.code} ${e.details}`),
  ];
  const collect = new Promise<Note>((resolve, reject) => {
    const call = client.Collect((error, reply) => (error ? reject(error) : resolve(reply!)));
    call.write({ text: 'a', number: 1 });
    call.write({ text: 'b', number: 2 });
    call.end();
  });
  const chat = client.Chat();
  const chatted = readAll(chat);
  chat.write({ text: 'x', number: 1 });
  chat.write({ text: 'y', number: 2 });
  chat.end();
  // One await for all three, so a failure of one leaves no rejection unhandled.
  const [unaryReplies, collected, chatReplies] = await Promise.all([unary(), collect, chatted]);
  return [
    ...unaryReplies,
    await readAll(client.Count({ text: 'tick', number: 3 })),
    collected,
    chatReplies,
    await pingPong(client, [
      { text: 'ping', number: 1 },
      { text: 'pong', number: 2 },
    ]),
  ];
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
