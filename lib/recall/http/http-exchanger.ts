/**
 * The one interface every HTTP mode implements. A server hands each complete request to an `HttpExchanger` and
 * writes back whatever it answers:
 *
 * - `HTTPClient` (proxy-only mode): asks the real upstream, records nothing;
 * - `ArchivingHTTPClient` (record): asks an inner exchanger and stores each exchange once its body completed;
 * - `PlaybackHTTPClient` (replay): answers from an archive only; it holds no upstream client at all.
 *
 * Wrappers nest (record = `ArchivingHTTPClient(DeterministicScriptInjector(HTTPClient))`), as in the original Recall.
 */
import type { RawHeaders, RecordedRequest } from '../archive/archive-types.js';

export type { RawHeaders, RecordedRequest } from '../archive/archive-types.js';

/** Status line and headers of a response, headers raw (hop-by-hop ones included: the server drops them). */
export interface ResponseHead {
  status: number;
  statusText: string;
  /** `1.1` or `1.0`. */
  httpVersion: string;
  headers: RawHeaders;
}

/** A response whose body arrives as it is read: the bytes exactly as the upstream sent them (not decompressed). */
export interface ExchangeResponse extends ResponseHead {
  /** Iterate once. Stopping early (`break`, client gone) aborts the body; an upstream failure mid-body throws. */
  body: AsyncIterable<Buffer>;
  /** HTTP/2 trailers (`grpc-status`), known once the body ended; undefined when there were none. */
  trailers?: () => RawHeaders | undefined;
  /**
   * false when the reply is known to carry a body or trailers (an HTTP/2 stream its headers did not end): the
   * server then sends the headers at once instead of first reading the body to see whether it is empty.
   */
  headersOnly?: boolean;
}

export interface ExchangeOptions {
  /** Aborts the exchange (the downstream client went away). */
  signal?: AbortSignal;
  /**
   * The request body as it arrives (a gRPC call over HTTP/2: its messages are forwarded as they come, so a client
   * that waits for each answer before it sends more does not deadlock); `request.body` is then empty. Given only
   * to exchangers whose `streamsRequestBodies` is true.
   */
  requestBody?: AsyncIterable<Buffer>;
}

export interface HttpExchanger {
  /**
   * Answers one request. Rejects with a `RecallError` (ERR_RECALL_UPSTREAM_CONNECT / _TIMEOUT / _PROTOCOL) when no
   * response head could be obtained; the servers turn those into 502 and 504 responses.
   */
  exchange(request: RecordedRequest, options?: ExchangeOptions): Promise<ExchangeResponse>;
  /** True when `exchange` reads `ExchangeOptions.requestBody`; wrappers answer for their inner exchanger. */
  readonly streamsRequestBodies?: boolean;
  /** Releases pooled connections and other resources. Idempotent. */
  close(): Promise<void>;
}

/** A body that is already in memory: iterable like any body, and its bytes at hand for a single write. */
export interface InMemoryBody extends AsyncIterable<Buffer> {
  readonly bytes: Buffer;
}

/** A body that is already in memory, as an `ExchangeResponse` body. */
export function bodyOf(bytes: Buffer): InMemoryBody {
  return {
    bytes,
    async *[Symbol.asyncIterator]() {
      if (bytes.length > 0) yield bytes;
    },
  };
}

/** The bytes of a body made by `bodyOf`, so a server can send head and body in one write; else undefined. */
export function inMemoryBytes(body: AsyncIterable<Buffer>): Buffer | undefined {
  const bytes = (body as Partial<InMemoryBody>).bytes;
  return Buffer.isBuffer(bytes) ? bytes : undefined;
}
