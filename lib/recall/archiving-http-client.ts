/**
 * Record mode: every request goes to the inner exchanger (repeats too, so a recording sees every state change),
 * and each exchange is added to the archive only once its response body has completed. A client that goes away
 * mid-body, or an upstream that fails mid-body, leaves nothing half-recorded behind.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { silentLogger } from '../logging.js';
import type { Archive } from './archive.js';
import type { RecordedRequest } from './archive-types.js';
import type { ExchangeOptions, ExchangeResponse, HttpExchanger } from './http-exchanger.js';
import { Scrubber, type ScrubOptions } from './scrub.js';

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

  async exchange(request: RecordedRequest, options?: ExchangeOptions): Promise<ExchangeResponse> {
    const started = new Date();
    const t0 = performance.now();
    const response = await this.#inner.exchange(request, options);
    return { ...response, body: this.#tee(request, response, started, t0) };
  }

  async *#tee(
    request: RecordedRequest,
    response: ExchangeResponse,
    started: Date,
    t0: number,
  ): AsyncIterable<Buffer> {
    const chunks: Buffer[] = [];
    this.#inFlight++;
    try {
      for await (const chunk of response.body) {
        chunks.push(chunk);
        yield chunk;
      }
      // Reached only when the body ended normally: not on an early return or an error.
      const stored = this.#scrubber.forRecord({
        startedDateTime: started.toISOString(),
        timeMs: Math.round((performance.now() - t0) * 1000) / 1000,
        request,
        response: {
          status: response.status,
          statusText: response.statusText,
          httpVersion: response.httpVersion,
          headers: response.headers,
          body: Buffer.concat(chunks),
        },
      });
      if (stored) this.archive.add(stored);
      this.#logger.info(
        { method: request.method, host: request.host, target: request.target, status: response.status },
        'RECORD',
      );
    } finally {
      this.#inFlight--;
    }
  }

  async close(): Promise<void> {
    await this.#inner.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
