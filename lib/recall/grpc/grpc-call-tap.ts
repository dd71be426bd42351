/**
 * Record mode's view of a gRPC call streamed through Recall: both directions pass through it untouched while it
 * keeps the request bytes (for the archive) and notes each message as it completes, with its direction and time,
 * so the archive holds the call's interleaving (`_recall.grpc.events`, grpc-call-record.ts).
 */
import { performance } from 'node:perf_hooks';
import type { GrpcCallEvent } from './grpc-call-record.js';
import { GrpcFrameReader } from './grpc-frame-reader.js';

export class GrpcCallTap {
  readonly #t0: number;
  readonly #events: GrpcCallEvent[] = [];
  readonly #sent: Buffer[] = [];
  readonly #count = { send: 0, receive: 0 };

  /** @param t0 `performance.now()` when the call started: event times count from it. */
  constructor(t0: number) {
    this.#t0 = t0;
  }

  /** The client's messages, passed on as they arrive. */
  async *requests(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    const reader = new GrpcFrameReader();
    for await (const chunk of source) {
      this.#sent.push(chunk);
      this.#note('send', reader.push(chunk).length);
      yield chunk;
    }
    this.#events.push({ type: 'end', time: this.#now() });
  }

  /** The server's messages, passed on as they arrive. */
  async *responses(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    const reader = new GrpcFrameReader();
    for await (const chunk of source) {
      this.#note('receive', reader.push(chunk).length);
      yield chunk;
    }
  }

  /** Every request byte the client sent so far. */
  requestBody(): Buffer {
    return Buffer.concat(this.#sent);
  }

  /** The messages both ways so far, in the order they went through. */
  events(): GrpcCallEvent[] {
    return [...this.#events];
  }

  #note(type: 'send' | 'receive', messages: number): void {
    for (let i = 0; i < messages; i++) this.#events.push({ type, message: this.#count[type]++, time: this.#now() });
  }

  #now(): number {
    return Math.round((performance.now() - this.#t0) * 1000) / 1000;
  }
}
