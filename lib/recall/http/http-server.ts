/**
 * `HTTPServer`: the transparent plain-HTTP interceptor. Every request goes to one `HttpExchanger` (proxy, record
 * or playback); the host comes from the Host header, an absolute-form target, or the address→name map.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import type { HttpExchanger } from './http-exchanger.js';
import { continueOrRefuse, createRequestHandler, type NameForAddress, type OriginalDestination } from './request-handler.js';
import { ServerLifecycle, type ListenOptions } from '../server-lifecycle.js';
import { applyHttpTimeouts, SourceGate, type ClientPolicy, type HttpTimeouts } from '../connection-limits.js';
import type { WebSocketExchanger } from '../websocket/websocket-exchanger.js';
import { createUpgradeHandler, webSocketFor } from '../websocket/upgrade-handler.js';

export interface HTTPServerOptions extends ListenOptions, ClientPolicy, HttpTimeouts {
  exchanger: HttpExchanger;
  /** Names for connections without a Host header. */
  nameMap?: NameForAddress;
  /** Root CA certificate (PEM) served at /_recall/ca.pem and /_recall/ca.der. */
  caCertificatePem?: string;
  /** Where a redirected connection was going, for clients without SNI or Host (iptables REDIRECT hides it). */
  originalDestination?: OriginalDestination;
  /** Largest request body accepted, in bytes. @default 67108864 */
  maxRequestBodyBytes?: number;
  /**
   * WebSocket upgrades: a `WebSocketRecorder` (record) or `WebSocketPlayer`. @default a `WebSocketPlayer` when
   * `exchanger` is a `PlaybackHTTPClient`, else none (upgrades are then answered as plain requests)
   */
  webSocket?: WebSocketExchanger;
  logger?: Logger;
}

type PendingResponse = http.ServerResponse & { writableFinished: boolean };

/**
 * Answers a request the HTTP parser rejected (400, or 431 for headers over the size limit) instead of dropping it;
 * never throws. A valid request that came before the bad bytes still gets its own answer first.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  logger.debug({ err: error, client: socket.remoteAddress }, 'malformed request');
  const refuse = (): void => {
    if (socket.writable && error.code !== 'ECONNRESET') {
      const status =
        error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    }
    socket.destroySoon();
  };
  const pending = (socket as Socket & { _httpMessage?: PendingResponse | null })._httpMessage;
  // No request yet, or the bad bytes are the pending request's own body: refuse at once.
  if (!pending || !pending.req.complete) {
    if (pending?.headersSent) return void socket.destroy();
    return refuse();
  }
  if (pending.writableFinished) return socket.destroySoon();
  // A request was parsed before the garbage: let its answer go out, then refuse the rest and close.
  pending.shouldKeepAlive = false;
  pending.once('finish', () => socket.destroySoon());
  pending.once('close', () => socket.destroySoon());
}

export class HTTPServer {
  readonly #server: http.Server;
  readonly #lifecycle: ServerLifecycle;
  readonly #options: HTTPServerOptions;
  readonly #webSocket: WebSocketExchanger | undefined;

  constructor(options: HTTPServerOptions) {
    this.#options = options;
    const logger = (options.logger ?? silentLogger).child({ component: 'http' });
    const gate = new SourceGate(options, 256, 'HTTPServer', logger);
    const handler = createRequestHandler({
      exchanger: options.exchanger,
      scheme: 'http',
      nameMap: options.nameMap,
      caCertificatePem: options.caCertificatePem,
      maxRequestBodyBytes: options.maxRequestBodyBytes,
      originalDestination: options.originalDestination,
      logger,
    });
    this.#server = http.createServer({ keepAlive: true, noDelay: true }, handler);
    // Before Node's own listener: a refused connection is closed before anything is parsed.
    this.#server.prependListener('connection', (socket: Socket) => void gate.admit(socket));
    this.#server.on('checkContinue', continueOrRefuse(options.maxRequestBodyBytes, handler));
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) =>
      answerClientError(error, socket, logger),
    );
    this.#webSocket = webSocketFor(options.exchanger, options.webSocket);
    if (this.#webSocket) {
      const { nameMap, originalDestination } = options;
      const upgrade = { webSocket: this.#webSocket, scheme: 'http' as const, nameMap, originalDestination, handler, logger };
      this.#server.on('upgrade', createUpgradeHandler(upgrade));
    }
    applyHttpTimeouts(this.#server, options, logger);
    this.#lifecycle = new ServerLifecycle(this.#server);
    this.#lifecycle.trackRequests(this.#server);
  }

  /** Starts listening on the options' host and port (default 127.0.0.1:0). */
  async listen(): Promise<AddressInfo> {
    return this.#lifecycle.listen(this.#options, 'HTTPServer');
  }

  /** The bound address and port. */
  address(): AddressInfo {
    return this.#lifecycle.address('HTTPServer');
  }

  /**
   * Stops accepting, lets requests in flight finish (at most `drainTimeoutMs`), then cuts what is left. Idempotent.
   * Does not close the exchanger.
   */
  async close(): Promise<void> {
    await this.#webSocket?.close();
    await this.#lifecycle.close(this.#options.drainTimeoutMs);
  }

  /** Requests being answered now. */
  get inFlight(): number {
    return this.#lifecycle.inFlight;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Creates an `HTTPServer` and waits until it listens. */
export async function startHTTPServer(options: HTTPServerOptions): Promise<HTTPServer> {
  const server = new HTTPServer(options);
  await server.listen();
  return server;
}
