/**
 * Scrubbing, rpcreplay-style: `beforeRecord` changes what is stored (never what the live client receives), and
 * the same function runs on every incoming request before playback matches it, so a scrubbed recording still
 * matches. During playback the hook sees an empty placeholder response: treat request and response independently.
 */
import type { RawHeaders, RecordedExchange, RecordedRequest } from './archive-types.js';

/** Returns the exchange to store (changed or not), or undefined to store nothing. Must not keep references. */
export type BeforeRecord = (exchange: RecordedExchange) => RecordedExchange | undefined;

export interface ScrubOptions {
  /** Replace the values of Authorization, Proxy-Authorization, Cookie and Set-Cookie with `[scrubbed]`. @default false */
  scrubSecrets?: boolean;
  /** Your own scrubbing; runs after `scrubSecrets`. */
  beforeRecord?: BeforeRecord;
}

/** The value that replaces a secret. */
export const SCRUBBED = '[scrubbed]';

const SECRET_REQUEST_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
const SECRET_RESPONSE_HEADERS = new Set(['set-cookie']);

function scrubHeaders(headers: RawHeaders, secret: Set<string>): RawHeaders {
  return headers.map(([n, v]) => (secret.has(n.toLowerCase()) ? [n, SCRUBBED] : [n, v]));
}

/** The built-in `scrubSecrets` hook. */
export const scrubSecrets: BeforeRecord = (exchange) => ({
  ...exchange,
  request: { ...exchange.request, headers: scrubHeaders(exchange.request.headers, SECRET_REQUEST_HEADERS) },
  response: {
    ...exchange.response,
    headers: scrubHeaders(exchange.response.headers, SECRET_RESPONSE_HEADERS),
  },
});

/** Applies the configured hooks to exchanges before storing and to requests before matching. */
export class Scrubber {
  readonly #hooks: BeforeRecord[];

  constructor(options: ScrubOptions = {}) {
    this.#hooks = [
      ...(options.scrubSecrets ? [scrubSecrets] : []),
      ...(options.beforeRecord ? [options.beforeRecord] : []),
    ];
  }

  get active(): boolean {
    return this.#hooks.length > 0;
  }

  /** What to store for this exchange; undefined when a hook dropped it. */
  forRecord(exchange: RecordedExchange): RecordedExchange | undefined {
    let current: RecordedExchange | undefined = exchange;
    for (const hook of this.#hooks) {
      if (current === undefined) return undefined;
      current = hook(current);
    }
    return current;
  }

  /** The request as it would have been stored, for matching against the archive. */
  forMatch(request: RecordedRequest): RecordedRequest {
    if (this.#hooks.length === 0) return request;
    const placeholder: RecordedExchange = {
      startedDateTime: new Date(0).toISOString(),
      timeMs: 0,
      request,
      response: { status: 200, statusText: '', httpVersion: '1.1', headers: [], body: Buffer.alloc(0) },
    };
    return this.forRecord(placeholder)?.request ?? request;
  }
}
