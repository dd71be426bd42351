/**
 * Record mode for WebSocket: the handshake goes to the real origin first (upstream-websocket.ts); only when it
 * answers 101 is the client's upgrade accepted, with the subprotocol the origin chose. Messages are relayed both
 * ways as they come and noted with their time; when either side closes, the other is closed with the same code and
 * the handshake goes into the archive with its messages in HAR `_webSocketMessages`. An origin that refuses the
 * upgrade has its answer passed on; one that cannot be reached is answered 502 (504 on timeout). Without an
 * archive it only relays (proxy mode).
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { silentLogger } from '../../logging.js';
import { isAutotestError } from '../../errors.js';
import type { Archive } from '../archive/archive.js';
import type { HarWebSocketMessage, RecordedRequest } from '../archive/archive-types.js';
import { urlOf } from '../archive/archive-codec.js';
import { Scrubber, type ScrubOptions } from '../archive/scrub.js';
import { RECALL_ERROR_CODES } from '../errors.js';
import { pairsOf } from '../http/http-headers.js';
import type { ClientHandshake } from './client-handshake.js';
import type { WebSocketExchanger } from './websocket-exchanger.js';
import { harMessage } from './websocket-frames.js';
import { connectUpstream, type UpstreamWebSocketOptions } from './upstream-websocket.js';

export interface WebSocketRecorderOptions extends UpstreamWebSocketOptions, ScrubOptions {
  /** Where finished connections go (saving it is the caller's job); none: relay only, record nothing (proxy mode). */
  archive: Archive | undefined;
  /** Most messages kept per connection; later ones are relayed but not recorded. @default 100000 */
  maxMessages?: number;
  /** Most bytes of message data kept per connection (as stored: base64 for binary). @default 67108864 */
  maxRecordedBytes?: number;
  logger?: Logger;
}

/** A close code that may be sent in a close frame (1005 and 1006 only describe what happened). */
function sendable(code: number): number | undefined {
  return code === 1000 ||
    (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
    ? code
    : undefined;
}

export class WebSocketRecorder implements WebSocketExchanger {
  readonly archive: Archive | undefined;
  readonly #options: WebSocketRecorderOptions;
  readonly #logger: Logger;
  readonly #scrubber: Scrubber;
  readonly #open = new Set<WebSocket>();
  readonly #recording = new Set<Promise<void>>();

  constructor(options: WebSocketRecorderOptions) {
    this.archive = options.archive;
    this.#options = options;
    this.#scrubber = new Scrubber(options);
    this.#logger = (options.logger ?? silentLogger).child({ component: 'websocket-record' });
  }

  async open(request: RecordedRequest, handshake: ClientHandshake): Promise<void> {
    const started = new Date();
    let upstream;
    try {
      upstream = await connectUpstream(request, this.#options);
    } catch (error) {
      const code = isAutotestError(error) ? error.code : RECALL_ERROR_CODES.UPSTREAM_CONNECT;
      this.#logger.warn({ err: error, url: urlOf(request) }, 'WebSocket upstream failed');
      const status = code === RECALL_ERROR_CODES.UPSTREAM_TIMEOUT ? 504 : 502;
      const text = `Recall: ${(error as Error).message}\n`;
      return handshake.refuse(
        status,
        status === 504 ? 'Gateway Timeout' : 'Bad Gateway',
        [
          ['Content-Type', 'text/plain; charset=utf-8'],
          ['x-recall-error', code],
        ],
        Buffer.from(text),
      );
    }
    if (!('socket' in upstream)) {
      const { response } = upstream;
      const chunks: Buffer[] = [];
      for await (const chunk of response as AsyncIterable<Buffer>) chunks.push(chunk);
      return handshake.refuse(
        response.statusCode ?? 502,
        response.statusMessage ?? '',
        pairsOf(response.rawHeaders),
        Buffer.concat(chunks),
      );
    }
    const { socket: origin, response } = upstream;
    // The origin already chose the subprotocol: the client gets that one.
    let client: WebSocket;
    try {
      client = await handshake.accept(origin.protocol || false, pairsOf(response.rawHeaders));
    } catch (error) {
      this.#logger.debug({ err: error, url: urlOf(request) }, 'WebSocket client went away during the handshake');
      return void origin.terminate();
    }
    this.#relay(request, response, client, origin, started);
  }

  #relay(
    request: RecordedRequest,
    response: IncomingMessage,
    client: WebSocket,
    origin: WebSocket,
    started: Date,
  ): void {
    const messages: HarWebSocketMessage[] = [];
    const maxMessages = this.#options.maxMessages ?? 100_000;
    const maxBytes = this.#options.maxRecordedBytes ?? 64 * 1024 * 1024;
    let bytes = 0;
    let full = false;
    // Bounded per connection: a long-lived feed keeps being relayed, but only its beginning is kept.
    const note = (type: 'send' | 'receive', data: WebSocket.RawData, isBinary: boolean): void => {
      if (full || !this.archive) return;
      const message = harMessage(type, data, isBinary);
      bytes += message.data.length;
      if (messages.length < maxMessages && bytes <= maxBytes) return void messages.push(message);
      full = true;
      this.#logger.warn(
        { url: urlOf(request), kept: messages.length, maxMessages, maxRecordedBytes: maxBytes },
        'WebSocket recording full: later frames are relayed but not recorded (raise maxMessages or maxRecordedBytes)',
      );
    };
    this.#open.add(client).add(origin);
    client.on('message', (data, isBinary) => {
      note('send', data, isBinary);
      if (origin.readyState === WebSocket.OPEN) origin.send(data, { binary: isBinary });
    });
    origin.on('message', (data, isBinary) => {
      note('receive', data, isBinary);
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
    let recorded = false;
    let stored = (): void => {};
    // close() waits for it: a recording stopped mid-connection keeps what was exchanged so far.
    const done = new Promise<void>((resolve) => (stored = resolve));
    this.#recording.add(done);
    const finish = (): void => {
      if (recorded) return;
      recorded = true;
      void this.#record(request, response, messages, started).finally(() => {
        this.#recording.delete(done);
        stored();
      });
    };
    const closeOther = (other: WebSocket) => (code: number, reason: Buffer) => {
      if (other.readyState === WebSocket.OPEN)
        other.close(sendable(code), sendable(code) ? reason : undefined);
      else if (other.readyState === WebSocket.CONNECTING) other.terminate();
      finish();
    };
    client.on('close', closeOther(origin));
    origin.on('close', closeOther(client));
    client.on('close', () => this.#open.delete(client));
    origin.on('close', () => this.#open.delete(origin));
    client.on('error', (error) => this.#logger.debug({ err: error }, 'WebSocket client failed'));
    origin.on('error', (error) => this.#logger.debug({ err: error }, 'WebSocket origin failed'));
    origin.resume();
  }

  async #record(
    request: RecordedRequest,
    response: IncomingMessage,
    messages: HarWebSocketMessage[],
    started: Date,
  ): Promise<void> {
    const archive = this.archive;
    if (!archive) return;
    const stored = this.#scrubber.forRecord({
      startedDateTime: started.toISOString(),
      timeMs: Date.now() - started.getTime(),
      request,
      response: {
        status: 101,
        statusText: response.statusMessage || 'Switching Protocols',
        httpVersion: response.httpVersion,
        headers: pairsOf(response.rawHeaders),
        body: Buffer.alloc(0),
      },
    });
    if (!stored) return;
    const url = urlOf(request);
    await archive.add({ ...stored, webSocketMessages: messages }).then(
      () => this.#logger.info({ url, messages: messages.length }, 'RECORD WebSocket'),
      (error: unknown) => this.#logger.error({ err: error, url }, 'WebSocket recording not stored'),
    );
  }

  /** Cuts the connections still open and waits until each is in the archive. Idempotent. */
  async close(): Promise<void> {
    for (const socket of this.#open) socket.terminate();
    this.#open.clear();
    await Promise.all(this.#recording);
  }
}
