// Calls of an Echo service (Say unary, Count server streaming, Collect client streaming, Chat bidi) through a real
// @grpc/grpc-js client, as promises: the test fixture's recalltest.Echo and the lab's lab.Echo have the same shape.
import type * as grpc from '@grpc/grpc-js';

export interface Note {
  text: string;
  number: number;
}

type Reply = (error: grpc.ServiceError | null, reply?: Note) => void;

/** The Echo methods as grpc-js names them (camel case beside the .proto's own names). */
export interface EchoCalls {
  say(note: Note, callback: Reply): grpc.ClientUnaryCall;
  say(note: Note, options: grpc.CallOptions, callback: Reply): grpc.ClientUnaryCall;
  count(note: Note): grpc.ClientReadableStream<Note>;
  collect(callback: Reply): grpc.ClientWritableStream<Note>;
  chat(): grpc.ClientDuplexStream<Note, Note>;
}

export const say = (client: EchoCalls, note: Note, options: grpc.CallOptions = {}): Promise<Note> =>
  new Promise((resolve, reject) => client.say(note, options, (error, reply) => (error ? reject(error) : resolve(reply!))));

/** Every note a server stream (or the server side of a bidi call) sends, once it ends. */
export function readAll(call: grpc.ClientReadableStream<Note> | grpc.ClientDuplexStream<Note, Note>): Promise<Note[]> {
  return new Promise((resolve, reject) => {
    const notes: Note[] = [];
    call.on('data', (n: Note) => notes.push(n)).on('end', () => resolve(notes)).on('error', reject);
  });
}

export const count = (client: EchoCalls, note: Note): Promise<Note[]> => readAll(client.count(note));

export const collect = (client: EchoCalls, notes: Note[]): Promise<Note> =>
  new Promise((resolve, reject) => {
    const call = client.collect((error, reply) => (error ? reject(error) : resolve(reply!)));
    for (const note of notes) call.write(note);
    call.end();
  });

/** A bidi Chat that writes every note, half-closes, and reads the echoes. */
export function chatAll(client: EchoCalls, notes: Note[]): Promise<Note[]> {
  const call = client.chat();
  const replies = readAll(call);
  for (const note of notes) call.write(note);
  call.end();
  return replies;
}

/**
 * A bidi Chat driven ping-pong: sends the first note, waits for its echo before sending the next, and half-closes
 * only after the last echo, as many real clients converse. Note i is `{ text: texts[i], number: i + 1 }`.
 */
export function pingPong(client: EchoCalls, texts: string[]): Promise<Note[]> {
  return new Promise((resolve, reject) => {
    const call = client.chat();
    const replies: Note[] = [];
    call.on('data', (note: Note) => {
      replies.push(note);
      if (replies.length < texts.length) call.write({ text: texts[replies.length]!, number: replies.length + 1 });
      else call.end();
    });
    call.on('end', () => resolve(replies)).on('error', reject);
    call.write({ text: texts[0]!, number: 1 });
  });
}
