/**
 * `HTTPServer`: the transparent plain-HTTP interceptor. Every request goes to one `HttpExchanger` (proxy, record
 * or playback); the host comes from the Host header, an absolute-form target, or the address→name map.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { silentLogger } from '../logging.js';
import type { HttpExchanger } from './http-exchanger.js';
import { createRequestHandler, type NameForAddress, type OriginalDestination } from './request-handler.js';
import { ServerLifecycle, type ListenOptions } from './server-lifecycle.js';

export interface HTTPServerOptions extends ListenOptions {
  exchanger: HttpExchanger;
  /** Names for connections without a Host header. */
  nameMap?: NameForAddress;
  /** Root CA certificate (PEM) served at /_recall/ca.pem and /_recall/ca.der. */
  caCertificatePem?: string;
  /** Where a redirected connection was going, for clients without SNI or Host (iptables REDIRECT hides it). */
  originalDestination?: OriginalDestination;
  /** Largest request body accepted, in bytes. @default 67108864 */
  maxRequestBodyBytes?: number;
  logger?: Logger;
}

/** Answers a request the HTTP parser rejected with 400 instead of dropping it; never throws. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  logger.debug({ err: error }, 'malformed request');
  const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !pending?.headersSent && error.code !== 'ECONNRESET') {
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  }
  socket.destroy();
}

export class HTTPServer {
  readonly #server: http.Server;
  readonly #lifecycle: ServerLifecycle;
  readonly #options: HTTPServerOptions;

  constructor(options: HTTPServerOptions) {
    this.#options = options;
    const logger = (options.logger ?? silentLogger).child({ component: 'http' });
    this.#server = http.createServer(
      { keepAlive: true },
      createRequestHandler({
        exchanger: options.exchanger,
        scheme: 'http',
        nameMap: options.nameMap,
        caCertificatePem: options.caCertificatePem,
        maxRequestBodyBytes: options.maxRequestBodyBytes,
        originalDestination: options.originalDestination,
        logger,
      }),
    );
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) =>
      answerClientError(error, socket, logger),
    );
    this.#lifecycle = new ServerLifecycle(this.#server);
  }

  /** Starts listening on the options' host and port (default 127.0.0.1:0). */
  async listen(): Promise<AddressInfo> {
    return this.#lifecycle.listen(this.#options, 'HTTPServer');
  }

  /** The bound address and port. */
  address(): AddressInfo {
    return this.#lifecycle.address('HTTPServer');
  }

  /** Stops listening and cuts open connections. Idempotent. Does not close the exchanger. */
  async close(): Promise<void> {
    await this.#lifecycle.close();
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
