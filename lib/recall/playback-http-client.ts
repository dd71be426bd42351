/**
 * Playback mode: answers only from the archive. It is hermetic by construction: it is given an archive, never an
 * upstream exchanger, so no code path can open an upstream connection. A miss is answered 404 with an
 * `x-recall-miss` header and kept, with its nearest recording and the differing fields, in `misses()`.
 */
import type { Logger } from 'pino';
import { silentLogger } from '../logging.js';
import type { Archive } from './archive.js';
import type { RawHeaders, RecordedExchange, RecordedRequest, RecordedResponse } from './archive-types.js';
import { urlOf } from './archive-codec.js';
import { bodyOf, type ExchangeResponse, type HttpExchanger } from './http-exchanger.js';
import { RequestMatcher, type MatchDifference, type MatchRules } from './request-matcher.js';
import { Scrubber, type ScrubOptions } from './scrub.js';

export interface PlaybackHTTPClientOptions extends MatchRules, ScrubOptions {
  logger?: Logger;
}

/** A request the archive could not answer. */
export interface PlaybackMiss {
  method: string;
  url: string;
  /** When it happened, ISO 8601. */
  at: string;
  /** The closest recording and the fields that differ from it; absent when the archive is empty. */
  nearest?: { method: string; url: string; differences: MatchDifference[] };
}

/** Header carrying `<method> <url>` on every 404 a miss produces. */
export const MISS_HEADER = 'x-recall-miss';

/** Header values may hold visible ASCII only: anything else is percent-encoded. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => encodeURIComponent(c));
}

/**
 * The recorded headers, with Content-Length corrected when a hand-edited body no longer has the recorded length
 * (a wrong length would leave the client waiting for bytes that never come). HEAD, 204 and 304 keep theirs.
 */
function lengthChecked(request: RecordedRequest, response: RecordedResponse): RawHeaders {
  const bodiless = request.method === 'HEAD' || response.status === 204 || response.status === 304;
  const actual = String(response.body.length);
  const wrong = (name: string, value: string) => !bodiless && name.toLowerCase() === 'content-length' && value.trim() !== actual;
  // Unchanged headers are the recorded list itself, the same on every replay (the server caches by identity).
  if (!response.headers.some(([name, value]) => wrong(name, value))) return response.headers;
  return response.headers.map(([name, value]) => (wrong(name, value) ? [name, actual] : [name, value]));
}

export class PlaybackHTTPClient implements HttpExchanger {
  readonly archive: Archive;
  readonly #matcher: RequestMatcher;
  readonly #scrubber: Scrubber;
  readonly #logger: Logger;
  readonly #misses: PlaybackMiss[] = [];
  #hits = 0;

  constructor(archive: Archive, options: PlaybackHTTPClientOptions = {}) {
    this.archive = archive;
    this.#matcher = new RequestMatcher(archive.exchanges, options);
    this.#scrubber = new Scrubber(options);
    this.#logger = (options.logger ?? silentLogger).child({ component: 'http-playback' });
  }

  /** Every miss so far, oldest first. */
  misses(): readonly PlaybackMiss[] {
    return this.#misses;
  }

  /** How many requests the archive answered. */
  get hits(): number {
    return this.#hits;
  }

  /** Recordings no request has used yet (since the last `reset`). */
  unused(): RecordedExchange[] {
    return this.#matcher.unused();
  }

  /** Rewinds the per-request sequences (start of a new iteration); misses are kept. */
  reset(): void {
    this.#matcher.reset();
  }

  async exchange(incoming: RecordedRequest): Promise<ExchangeResponse> {
    const request = this.#scrubber.forMatch(incoming);
    const hit = this.#matcher.match(request);
    if (hit) {
      this.#hits++;
      this.#logger.debug({ method: request.method, url: urlOf(request) }, 'HIT');
      const { response } = hit;
      return { ...response, headers: lengthChecked(request, response), body: bodyOf(response.body) };
    }
    return this.#miss(request);
  }

  #miss(request: RecordedRequest): ExchangeResponse {
    const url = urlOf(request);
    const nearest = this.#matcher.nearest(request);
    const miss: PlaybackMiss = { method: request.method, url, at: new Date().toISOString() };
    if (nearest) {
      miss.nearest = {
        method: nearest.exchange.request.method,
        url: urlOf(nearest.exchange.request),
        differences: nearest.differences,
      };
    }
    this.#misses.push(miss);
    this.#logger.warn({ method: request.method, url, nearest: miss.nearest }, 'MISS');
    const lines = [`Recall: not in the archive: ${request.method} ${url}`];
    if (miss.nearest) {
      lines.push(`Nearest recording: ${miss.nearest.method} ${miss.nearest.url}`);
      for (const d of miss.nearest.differences)
        lines.push(
          `  ${d.field}: recorded ${JSON.stringify(d.recorded)}, received ${JSON.stringify(d.received)}`,
        );
    }
    const body = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    return {
      status: 404,
      statusText: 'Not Found',
      httpVersion: '1.1',
      headers: [
        ['Content-Type', 'text/plain; charset=utf-8'],
        ['Content-Length', String(body.length)],
        [MISS_HEADER, headerSafe(`${request.method} ${url}`)],
      ],
      body: bodyOf(body),
    };
  }

  async close(): Promise<void> {
    // Nothing to release: no connections exist.
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
