/**
 * Playback mode for WebSocket, hermetic like `PlaybackHTTPClient`: an upgrade is matched against the archive's
 * recorded handshakes (handshake-matcher.ts) and answered 101 with a fresh `Sec-WebSocket-Accept` for the client's
 * key, the recorded subprotocol and the recorded extra headers; the connection then replays its recorded messages
 * (websocket-conversation.ts). A handshake not in the archive goes to `misses` (the `PlaybackHTTPClient`), so it is
 * answered 404 and counted like any HTTP miss. Frames that differ from the recording are logged when the connection
 * closes and kept in `mismatches()`.
 */
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { silentLogger } from '../../logging.js';
import type { Archive } from '../archive/archive.js';
import type { RecordedRequest } from '../archive/archive-types.js';
import { urlOf } from '../archive/archive-codec.js';
import { Scrubber, type ScrubOptions } from '../archive/scrub.js';
import type { HttpExchanger } from '../http/http-exchanger.js';
import { headerValue } from '../http/http-headers.js';
import type { MatchRules } from '../http/request-matcher.js';
import { FrameMatcher, type FrameMatchRules } from './frame-matcher.js';
import { HandshakeMatcher } from './handshake-matcher.js';
import type { ClientHandshake } from './client-handshake.js';
import type { WebSocketExchanger } from './websocket-exchanger.js';
import { WebSocketConversation, mismatchLine, type WebSocketMismatch } from './websocket-conversation.js';
import { offeredProtocols } from './upstream-websocket.js';

export interface WebSocketPlayerOptions extends MatchRules, ScrubOptions, FrameMatchRules {
  /** Answers handshakes not in the archive (a `PlaybackHTTPClient`: 404, counted as a miss). @default a bare 404 */
  misses?: HttpExchanger;
  /** Longest recorded gap between frames kept on playback, in ms. @default 2000 */
  maxFrameDelayMs?: number;
  /** Mismatching connections kept in `mismatches()`; more are only logged. @default 1000 */
  maxMismatches?: number;
  logger?: Logger;
}

export class WebSocketPlayer implements WebSocketExchanger {
  readonly #handshakes: HandshakeMatcher;
  readonly #frames: FrameMatcher;
  readonly #scrubber: Scrubber;
  readonly #options: WebSocketPlayerOptions;
  readonly #logger: Logger;
  readonly #open = new Set<WebSocket>();
  readonly #mismatches: WebSocketMismatch[] = [];
  #connections = 0;

  constructor(archive: Archive, options: WebSocketPlayerOptions = {}) {
    this.#handshakes = new HandshakeMatcher(archive.exchanges, options);
    this.#frames = new FrameMatcher(options);
    this.#scrubber = new Scrubber(options);
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'websocket-playback' });
  }

  /** Connections answered from the archive so far. */
  get connections(): number {
    return this.#connections;
  }

  /** Closed connections whose client frames differed from the recording (extra or missing frames). */
  mismatches(): WebSocketMismatch[] {
    return [...this.#mismatches];
  }

  /** One line per mismatching connection, for an end-of-run summary. */
  mismatchSummary(): string[] {
    return this.#mismatches.map((m) => mismatchLine(m)!);
  }

  /** Rewinds to the first recorded connection of every handshake (a new test iteration). */
  reset(): void {
    this.#handshakes.reset();
  }

  async open(incoming: RecordedRequest, handshake: ClientHandshake): Promise<void> {
    const request = this.#scrubber.forMatch(incoming);
    const hit = this.#handshakes.match(request);
    if (!hit) return this.#miss(incoming, handshake);
    this.#connections++;
    const url = urlOf(request).replace(/^http/, 'ws');
    const recorded = headerValue(hit.response.headers, 'sec-websocket-protocol')?.trim();
    const protocol = recorded && offeredProtocols(incoming).includes(recorded) ? recorded : false;
    let client: WebSocket;
    try {
      client = await handshake.accept(protocol, hit.response.headers);
    } catch (error) {
      return void this.#logger.debug({ err: error, url }, 'WebSocket client went away during the handshake');
    }
    this.#open.add(client);
    this.#logger.debug({ url, httpVersion: handshake.httpVersion }, 'HIT WebSocket');
    const conversation = new WebSocketConversation(
      url,
      hit.webSocketMessages ?? [],
      client,
      this.#frames,
      this.#options.maxFrameDelayMs ?? 2000,
    );
    void conversation.finished.then((mismatch) => {
      this.#open.delete(client);
      const line = mismatchLine(mismatch);
      if (!line) return;
      this.#logger.warn(mismatch, line);
      if (this.#mismatches.length < (this.#options.maxMismatches ?? 1000)) this.#mismatches.push(mismatch);
    });
  }

  async #miss(request: RecordedRequest, handshake: ClientHandshake): Promise<void> {
    const fallback = this.#options.misses;
    if (!fallback) {
      this.#logger.warn({ url: urlOf(request) }, 'MISS WebSocket');
      const body = Buffer.from(`Recall: not in the archive: WebSocket ${urlOf(request)}\n`);
      return handshake.refuse(404, 'Not Found', [['Content-Type', 'text/plain; charset=utf-8']], body);
    }
    const response = await fallback.exchange(request);
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(chunk);
    handshake.refuse(response.status, response.statusText, response.headers, Buffer.concat(chunks));
  }

  async close(): Promise<void> {
    for (const socket of this.#open) socket.terminate();
    this.#open.clear();
  }
}
