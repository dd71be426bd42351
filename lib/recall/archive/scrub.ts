/**
 * Scrubbing, rpcreplay-style: what is stored is changed (never what the live client receives), and the same user
 * hook runs on every incoming request before playback matches it, so a scrubbed recording still matches.
 *
 * Credentials are scrubbed by default: archives travel (results folders, bug reports), and a device's
 * Authorization or Cookie values must not travel with them. Matching ignores those headers' values (they are
 * volatile, see request-key.ts), so scrubbed and unscrubbed archives play back the same way.
 */
import type { RawHeaders, RecordedExchange, RecordedRequest } from './archive-types.js';
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';

/** Returns the exchange to store (changed or not), or undefined to store nothing. Must not keep references. */
export type BeforeRecord = (exchange: RecordedExchange) => RecordedExchange | undefined;

/**
 * Which secrets are stored as `[scrubbed]`: `credentials` the values of the requests' Authorization,
 * Proxy-Authorization and Cookie headers, and of those and Set-Cookie in response trailers; `all` also the
 * responses' Set-Cookie header values (pages that read their own cookies may then behave differently in
 * playback); `none` stores everything in clear.
 */
export type ScrubMode = 'credentials' | 'all' | 'none';
export const SCRUB_MODES: readonly ScrubMode[] = ['credentials', 'all', 'none'];

export interface ScrubOptions {
  /** What is stored as `[scrubbed]`. @default 'credentials' */
  scrub?: ScrubMode;
  /** The older switch, used when `scrub` is not given: true is `scrub: 'all'`, false is `scrub: 'none'`. */
  scrubSecrets?: boolean;
  /** Your own scrubbing; runs after the built-in one, and on incoming requests before playback matches them. */
  beforeRecord?: BeforeRecord;
}

/** The value that replaces a secret. */
export const SCRUBBED = '[scrubbed]';

const SECRET_REQUEST_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
const SECRET_RESPONSE_HEADERS = new Set(['set-cookie']);

function scrubHeaders(headers: RawHeaders, secret: Set<string>): RawHeaders {
  return headers.map(([n, v]) => (secret.has(n.toLowerCase()) ? [n, SCRUBBED] : [n, v]));
}

/**
 * Credentials and cookies in response trailers (HTTP/2, gRPC): scrubbed in `credentials` mode already, since no
 * client acts on a credential or a cookie sent after the body (RFC 9110 §6.5.1), so playback loses nothing.
 */
const SECRET_TRAILERS = new Set([...SECRET_REQUEST_HEADERS, ...SECRET_RESPONSE_HEADERS]);

/** Request credentials, and credentials and cookies in response trailers, scrubbed. */
export const scrubCredentials: BeforeRecord = (exchange) => {
  const { trailers } = exchange.response;
  return {
    ...exchange,
    request: { ...exchange.request, headers: scrubHeaders(exchange.request.headers, SECRET_REQUEST_HEADERS) },
    ...(trailers ? { response: { ...exchange.response, trailers: scrubHeaders(trailers, SECRET_TRAILERS) } } : {}),
  };
};

/** As `scrubCredentials`, and response cookies scrubbed too (`scrub: 'all'`). */
export const scrubSecrets: BeforeRecord = (exchange) => {
  const scrubbed = scrubCredentials(exchange)!;
  return { ...scrubbed, response: { ...scrubbed.response, headers: scrubHeaders(exchange.response.headers, SECRET_RESPONSE_HEADERS) } };
};

/**
 * A scrub mode from a command-line or test argument (`none`, `credentials`, `all`; `0`/`1` as none/credentials).
 * @throws RecallError ERR_RECALL_INVALID_OPTION naming the value
 */
export function parseScrubMode(value: string | undefined): ScrubMode {
  if (value === undefined || value === '') return 'credentials';
  const mode = ({ '0': 'none', '1': 'credentials' } as Record<string, ScrubMode>)[value] ?? value;
  if (!SCRUB_MODES.includes(mode as ScrubMode)) {
    throw new RecallError(RECALL_ERROR_CODES.INVALID_OPTION, `Expected scrub to be one of ${SCRUB_MODES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return mode as ScrubMode;
}

function modeOf(options: ScrubOptions): ScrubMode {
  if (options.scrub !== undefined) return parseScrubMode(options.scrub);
  if (options.scrubSecrets !== undefined) return options.scrubSecrets ? 'all' : 'none';
  return 'credentials';
}

/** Applies the configured scrubbing to exchanges before storing and the user hook to requests before matching. */
export class Scrubber {
  readonly mode: ScrubMode;
  readonly #record: BeforeRecord[];
  readonly #match: BeforeRecord | undefined;

  constructor(options: ScrubOptions = {}) {
    this.mode = modeOf(options);
    const builtIn = { credentials: [scrubCredentials], all: [scrubSecrets], none: [] }[this.mode];
    this.#record = [...builtIn, ...(options.beforeRecord ? [options.beforeRecord] : [])];
    this.#match = options.beforeRecord;
  }

  get active(): boolean {
    return this.#record.length > 0;
  }

  /** What to store for this exchange; undefined when a hook dropped it. */
  forRecord(exchange: RecordedExchange): RecordedExchange | undefined {
    let current: RecordedExchange | undefined = exchange;
    for (const hook of this.#record) {
      if (current === undefined) return undefined;
      current = hook(current);
    }
    return current;
  }

  /**
   * The request as the user hook would have stored it, for matching against the archive. The built-in scrubbing
   * needs no counterpart here: matching ignores the headers it scrubs.
   */
  forMatch(request: RecordedRequest): RecordedRequest {
    if (!this.#match) return request;
    const placeholder: RecordedExchange = {
      startedDateTime: new Date(0).toISOString(),
      timeMs: 0,
      request,
      response: { status: 200, statusText: '', httpVersion: '1.1', headers: [], body: Buffer.alloc(0) },
    };
    return this.#match(placeholder)?.request ?? request;
  }
}
