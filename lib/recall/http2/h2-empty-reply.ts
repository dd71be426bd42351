/**
 * HTTP/2 replies without a body: sent as one HEADERS frame that ends the stream. Node's compatibility response
 * sends its headers first and ends the stream with an empty DATA frame, which gRPC clients reject for a
 * trailers-only reply (the status is in those headers: "Call ended without gRPC status"). A streamed body is only
 * known empty once it ended, so its first chunk is awaited before the headers go out.
 */
import type { ServerResponse } from 'node:http';
import type { ServerHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import { inMemoryBytes } from '../http/http-exchanger.js';

const NOTHING: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }) };

/** Whether `body` is empty, and a body that still yields every chunk (the one read to find out included). */
export async function peekEmpty(body: AsyncIterable<Buffer>): Promise<{ empty: boolean; body: AsyncIterable<Buffer> }> {
  const bytes = inMemoryBytes(body);
  if (bytes) return { empty: bytes.length === 0, body };
  const iterator = body[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return { empty: true, body: NOTHING };
  let pending: IteratorResult<Buffer> | undefined = first;
  const rest: AsyncIterator<Buffer> = {
    next: () => {
      const given = pending;
      pending = undefined;
      return given ? Promise.resolve(given) : iterator.next();
    },
    ...(iterator.return ? { return: () => iterator.return!() } : {}),
  };
  return { empty: false, body: { [Symbol.asyncIterator]: () => rest } };
}

/**
 * Sends `status` and the flat header list as a HEADERS frame that ends the stream. Without Node's `date` (core
 * `respond` adds one unless told not to): the recorded Date, if any, is the only one, as on every other reply.
 */
export function respondHeadersOnly(res: ServerResponse, status: number, flat: readonly string[]): void {
  const headers: OutgoingHttpHeaders = { ':status': status };
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const had = headers[name];
    headers[name] = had === undefined ? flat[i + 1] : [...(Array.isArray(had) ? had : [String(had)]), flat[i + 1]!];
  }
  // `sendDate` is a respond option Node's types leave out.
  (res as unknown as { stream: ServerHttp2Stream }).stream.respond(headers, { endStream: true, sendDate: false } as object);
}
