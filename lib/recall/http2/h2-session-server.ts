/**
 * The HTTP/2 side of the HTTPS interceptor: takes TLS sockets that negotiated `h2` and serves their streams with
 * the same request handler as HTTP/1.1 (through Node's compatibility API, so matching, misses, scrubbing and the
 * injector are shared). A session is recycled after `maxStreamsPerSession` streams: it is sent GOAWAY, finishes
 * the streams it has and the client opens a new one, so a long run does not grow one session's state without bound.
 */
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';

export interface H2SessionServerOptions {
  /** Streams a session serves before it is told to go away (GOAWAY) and the client reconnects. @default 10000 */
  maxStreamsPerSession?: number;
  /** Streams a client may have open at once on a session. @default 256 */
  maxConcurrentStreams?: number;
  /** An idle session is closed after this many ms. @default 120000 */
  idleTimeoutMs?: number;
  /**
   * Answers extended CONNECT requests (RFC 8441, WebSocket over HTTP/2); when set, sessions announce
   * SETTINGS_ENABLE_CONNECT_PROTOCOL, so a browser opens its WebSockets on the h2 connection it has.
   */
  onConnect?: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  logger: Logger;
}

export class H2SessionServer {
  readonly #server: http2.Http2Server;
  readonly #sessions = new Set<http2.ServerHttp2Session>();

  constructor(handler: (req: IncomingMessage, res: ServerResponse) => void, options: H2SessionServerOptions) {
    const maxStreams = options.maxStreamsPerSession ?? 10_000;
    const { logger } = options;
    // The compatibility request and response have the members the handler uses (headers, rawHeaders, socket,
    // writeHead, write/drain, end, destroy); the handler checks httpVersionMajor where HTTP/2 differs.
    this.#server = http2.createServer(
      { settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? 256, enableConnectProtocol: options.onConnect !== undefined } },
      handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
    );
    this.#server.setTimeout(options.idleTimeoutMs ?? 120_000);
    if (options.onConnect) this.#server.on('connect', options.onConnect);
    this.#server.on('session', (session: http2.ServerHttp2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
      session.on('error', (error) => logger.debug({ err: error }, 'HTTP/2 session failed'));
      let streams = 0;
      session.on('stream', () => {
        if (++streams === maxStreams) session.close();
      });
    });
  }

  /** Serves a TLS socket whose handshake chose `h2`. */
  accept(socket: TLSSocket): void {
    // A server-side TLSSocket made by hand never clears `secureConnecting` (tls.Server does), and the HTTP/2 session
    // would wait for a 'secureConnect' that a server socket never emits.
    (socket as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
    this.#server.emit('connection', socket);
  }

  /** Sessions open now. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /**
   * Tells every session to go away (GOAWAY: no new streams) and waits until the streams in flight finished and the
   * sessions closed, at most `timeoutMs`.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.#sessions.size === 0) return;
    // Waits for 'close' itself: close(callback) drops the callback of a session already closing (one whose client
    // sent GOAWAY while a stream was still open), and the drain then sat out its whole timeout.
    const closed = [...this.#sessions].map(
      (session) =>
        new Promise((resolve) => {
          session.once('close', resolve);
          session.close();
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }
}
