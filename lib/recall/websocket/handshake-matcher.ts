/**
 * Finds the recorded WebSocket connection for an upgrade request: the archive's handshakes (entries with
 * `_webSocketMessages`) matched exactly as HTTP requests are (request-matcher.ts: method, URL, headers that are not
 * volatile), with the handshake's own per-connection headers ignored as well: the random `Sec-WebSocket-Key`, and
 * the version and extensions a client library adds.
 */
import type { RecordedExchange, RecordedRequest } from '../archive/archive-types.js';
import { RequestMatcher, type MatchRules } from '../http/request-matcher.js';

/** Handshake headers that differ on every connection or with the client library, never compared. */
export const VOLATILE_HANDSHAKE_HEADERS = [
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
];

/** True for an archive entry that is a WebSocket connection. */
export function isWebSocketExchange(exchange: RecordedExchange): boolean {
  return exchange.webSocketMessages !== undefined && exchange.response.status === 101;
}

export class HandshakeMatcher {
  readonly #matcher: RequestMatcher;

  constructor(exchanges: readonly RecordedExchange[], rules: MatchRules = {}) {
    this.#matcher = new RequestMatcher(exchanges.filter(isWebSocketExchange), {
      ...rules,
      ignoreHeaders: [...(rules.ignoreHeaders ?? []), ...VOLATILE_HANDSHAKE_HEADERS],
    });
  }

  /** The next recorded connection for this handshake (identical handshakes in recorded order), or undefined. */
  match(request: RecordedRequest): RecordedExchange | undefined {
    return this.#matcher.match(request);
  }

  /** Rewinds to the first recorded connection of every handshake (a new test iteration). */
  reset(): void {
    this.#matcher.reset();
  }
}
