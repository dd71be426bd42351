/**
 * Playback mode: answers only from the archive. It is hermetic by construction: it is given an archive, never an
 * upstream exchanger, so no code path can open an upstream connection. A recorded body is served in a form the
 * client can decode (coding-negotiation.ts). A miss is answered 404 with an `x-recall-miss` header and counted,
 * with its nearest recording and the differing fields, in `misses()` (aggregated and bounded: miss-log.ts).
 */
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import type { Archive } from '../archive/archive.js';
import type { RawHeaders, RecordedExchange, RecordedRequest, RecordedResponse } from '../archive/archive-types.js';
import { urlOf } from '../archive/archive-codec.js';
import { bodyOf, type ExchangeResponse, type HttpExchanger } from './http-exchanger.js';
import { RequestMatcher, type MatchRules } from './request-matcher.js';
import { indexKeyOf } from './request-key.js';
import { Scrubber, type ScrubOptions } from '../archive/scrub.js';
import { bodyForClient } from './coding-negotiation.js';
import { headerValue } from './http-headers.js';
import { MissLog, bounded, type MissMark, type PlaybackMiss } from './miss-log.js';

export { MAX_MISS_TEXT, DEFAULT_MAX_DISTINCT_MISSES, type PlaybackMiss, type MissMark } from './miss-log.js';

export interface PlaybackHTTPClientOptions extends MatchRules, ScrubOptions {
  logger?: Logger;
  /** Distinct missed requests kept with their details; more are only counted. @default 1000 */
  maxDistinctMisses?: number;
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
  const wrong = (name: string, value: string) =>
    (!bodiless && name.toLowerCase() === 'content-length' && value.trim() !== actual) || name.startsWith(':');
  // Unchanged headers are the recorded list itself, the same on every replay (the server caches by identity).
  if (!response.headers.some(([name, value]) => wrong(name, value))) return response.headers;
  // HTTP/2 pseudo-headers (`:status`, in browsers' HAR exports) are no header lines at all in HTTP/1.1.
  return response.headers
    .filter(([name]) => !name.startsWith(':'))
    .map(([name, value]) => (wrong(name, value) ? [name, actual] : [name, value]));
}

export class PlaybackHTTPClient implements HttpExchanger {
  readonly archive: Archive;
  readonly #matcher: RequestMatcher;
  readonly #scrubber: Scrubber;
  readonly #logger: Logger;
  readonly #misses: MissLog;
  #hits = 0;

  constructor(archive: Archive, options: PlaybackHTTPClientOptions = {}) {
    this.archive = archive;
    this.#matcher = new RequestMatcher(archive.exchanges, options);
    this.#scrubber = new Scrubber(options);
    this.#logger = (options.logger ?? silentLogger).child({ component: 'http-playback' });
    this.#misses = new MissLog(options.maxDistinctMisses);
  }

  /**
   * The missed requests, one entry per distinct request with its `count`, first missed first (at most
   * `maxDistinctMisses`). With `since` (from `missMark()`), only the misses after that mark.
   */
  misses(since?: MissMark): PlaybackMiss[] {
    return this.#misses.list(since);
  }

  /** Where the misses stand now, for `misses(since)` and `missSummary(since)` (one test iteration). */
  missMark(): MissMark {
    return this.#misses.mark();
  }

  /** Every miss so far, counted one per request (also those beyond `maxDistinctMisses`). */
  get missCount(): number {
    return this.#misses.total;
  }

  /** Bounded lines for a summary: the most frequent misses, then how many more. */
  missSummary(limit = 20, since?: MissMark): string[] {
    return this.#misses.summary(limit, since);
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
      const served = bodyForClient(hit.response, headerValue(incoming.headers, 'accept-encoding'));
      const response = { ...hit.response, ...served };
      return {
        status: response.status,
        statusText: response.statusText,
        httpVersion: response.httpVersion,
        headers: lengthChecked(request, response),
        body: bodyOf(response.body),
        ...(response.trailers ? { trailers: () => response.trailers } : {}),
      };
    }
    return this.#miss(request);
  }

  #miss(request: RecordedRequest): ExchangeResponse {
    const url = urlOf(request);
    const miss = this.#misses.record(indexKeyOf(this.#matcher.keyOf(request)), () =>
      this.#describe(request, url),
    );
    // One log line per distinct request, so a flood of one miss does not flood the log.
    if (miss?.count === 1) this.#logger.warn({ method: request.method, url, nearest: miss.nearest }, 'MISS');
    const lines = [`Recall: not in the archive: ${request.method} ${url}`];
    if (miss?.nearest) {
      lines.push(`Nearest recording: ${miss.nearest.method} ${miss.nearest.url}`);
      for (const d of miss.nearest.differences)
        lines.push(
          `  ${d.field}: recorded ${JSON.stringify(d.recorded)}, received ${JSON.stringify(d.received)}`,
        );
    }
    const body = Buffer.from(`${bounded(lines.join('\n'))}\n`, 'utf8');
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

  #describe(request: RecordedRequest, url: string): Omit<PlaybackMiss, 'count'> {
    const miss: Omit<PlaybackMiss, 'count'> = {
      method: request.method,
      url: bounded(url),
      at: new Date().toISOString(),
    };
    const nearest = this.#matcher.nearest(request);
    if (nearest) {
      miss.nearest = {
        method: nearest.exchange.request.method,
        url: bounded(urlOf(nearest.exchange.request)),
        differences: nearest.differences.map((d) => ({
          field: d.field,
          recorded: bounded(d.recorded),
          received: bounded(d.received),
        })),
      };
    }
    return miss;
  }

  async close(): Promise<void> {
    // Nothing to release: no connections exist.
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
