/**
 * Record mode: every request goes to the inner exchanger (repeats too, so a recording sees every state change),
 * and each exchange is added to the archive only once its response body has completed. A client that goes away
 * mid-body, or an upstream that fails mid-body, leaves nothing half-recorded behind. When the archive journals
 * (`archive.journalTo`), the exchange is on disk before the client has its last byte.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import type { Archive } from '../archive/archive.js';
import type { RawHeaders, RecordedRequest } from '../archive/archive-types.js';
import type { ExchangeOptions, ExchangeResponse, HttpExchanger } from './http-exchanger.js';
import { Scrubber, type ScrubOptions } from '../archive/scrub.js';
import { withDecodedBody } from './content-coding.js';
import { GrpcCallTap } from '../grpc/grpc-call-tap.js';

/** The Content-Length of a response, when it has exactly one valid value. */
function contentLength(headers: RawHeaders): number | undefined {
  const values = headers
    .filter(([name]) => name.toLowerCase() === 'content-length')
    .map(([, value]) => value.trim());
  if (values.length === 0 || !/^\d+$/.test(values[0]!) || values.some((v) => v !== values[0]))
    return undefined;
  return Number(values[0]);
}

export interface ArchivingHTTPClientOptions extends ScrubOptions {
  /** Where complete exchanges go. Saving it is the caller's job (`archive.save(file)`). */
  archive: Archive;
  logger?: Logger;
}

export class ArchivingHTTPClient implements HttpExchanger {
  readonly archive: Archive;
  readonly #inner: HttpExchanger;
  readonly #scrubber: Scrubber;
  readonly #logger: Logger;
  #inFlight = 0;

  constructor(inner: HttpExchanger, options: ArchivingHTTPClientOptions) {
    this.#inner = inner;
    this.archive = options.archive;
    this.#scrubber = new Scrubber(options);
    this.#logger = (options.logger ?? silentLogger).child({ component: 'http-record' });
  }

  /** Exchanges whose body is still streaming (not yet in the archive). */
  get inFlight(): number {
    return this.#inFlight;
  }

  get streamsRequestBodies(): boolean {
    return this.#inner.streamsRequestBodies === true;
  }

  async exchange(request: RecordedRequest, options?: ExchangeOptions): Promise<ExchangeResponse> {
    const started = new Date();
    const t0 = performance.now();
    // A streamed (gRPC) request: tapped for its bytes and for the order of the messages both ways.
    const tap = options?.requestBody ? new GrpcCallTap(t0) : undefined;
    const response = await this.#inner.exchange(request, tap ? { ...options, requestBody: tap.requests(options!.requestBody!) } : options);
    const observed = tap ? { ...response, body: tap.responses(response.body) } : response;
    return { ...response, body: this.#tee(request, observed, started, t0, tap) };
  }

  async *#tee(
    request: RecordedRequest,
    response: ExchangeResponse,
    started: Date,
    t0: number,
    tap?: GrpcCallTap,
  ): AsyncIterable<Buffer> {
    const chunks: Buffer[] = [];
    // With a Content-Length the client knows the body is complete with its last byte: record before sending it,
    // so a recording killed at any moment keeps every exchange a client saw complete.
    const expected = request.method === 'HEAD' ? undefined : contentLength(response.headers);
    let received = 0;
    let recorded = false;
    this.#inFlight++;
    try {
      for await (const chunk of response.body) {
        chunks.push(chunk);
        received += chunk.length;
        // Trailers come after the last byte: a response that may have them is recorded at its end.
        if (!recorded && received === expected && !response.trailers) {
          recorded = true;
          await this.#record(request, response, Buffer.concat(chunks), started, t0, tap);
        }
        yield chunk;
      }
      // Reached only when the body ended normally: not on an early return or an error.
      if (!recorded) await this.#record(request, response, Buffer.concat(chunks), started, t0, tap);
    } finally {
      this.#inFlight--;
    }
  }

  async #record(
    request: RecordedRequest,
    response: ExchangeResponse,
    body: Buffer,
    started: Date,
    t0: number,
    tap?: GrpcCallTap,
  ): Promise<void> {
    const stored = this.#scrubber.forRecord({
      startedDateTime: started.toISOString(),
      timeMs: Math.round((performance.now() - t0) * 1000) / 1000,
      request: tap ? { ...request, body: tap.requestBody() } : request,
      ...(tap ? { grpcEvents: tap.events() } : {}),
      response: {
        status: response.status,
        statusText: response.statusText,
        httpVersion: response.httpVersion,
        headers: response.headers,
        body,
        ...(response.trailers?.() ? { trailers: response.trailers() } : {}),
      },
    });
    // Decoded off the event loop (capped) so the archive stores the readable body without blocking (content-coding.ts).
    if (stored) await this.archive.add(await withDecodedBody(stored, this.#logger));
    this.#logger.info(
      { method: request.method, host: request.host, target: request.target, status: response.status },
      'RECORD',
    );
  }

  async close(): Promise<void> {
    await this.#inner.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
