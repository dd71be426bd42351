/**
 * `HTTPSServer`: the transparent HTTPS interceptor. It accepts TCP itself, picks a certificate per connection and
 * terminates TLS, then hands the decrypted stream to the same request handler as `HTTPServer`.
 *
 * Certificate choice: the SNI name when the client sends one; otherwise the name the address→name map gives for
 * the address the client connected to; otherwise that address itself. The leaf source is asked before the
 * handshake (for the no-SNI default) and again from the SNI callback, so it should cache (the CA does).
 * Garbage, plain HTTP or a failed handshake on this port only ever closes that one connection.
 */
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { silentLogger } from '../logging.js';
import type { HttpExchanger } from './http-exchanger.js';
import { answerClientError } from './http-server.js';
import { createRequestHandler, type NameForAddress, type OriginalDestination } from './request-handler.js';
import { ServerLifecycle, type ListenOptions } from './server-lifecycle.js';

/**
 * Gives the TLS context (leaf certificate and key) to present for a host name or an IP address.
 * `CertificateAuthority` implements it; `rootCertificatePem`, when present, is served at /_recall/ca.pem.
 */
export interface LeafCertificateSource {
  secureContextFor(servername: string): Promise<tls.SecureContext>;
  readonly rootCertificatePem?: string;
}

export interface HTTPSServerOptions extends ListenOptions {
  exchanger: HttpExchanger;
  certificates: LeafCertificateSource;
  /** Names for connections without SNI (and requests without a Host header). */
  nameMap?: NameForAddress;
  /** Root CA certificate (PEM) served at /_recall/ca.pem and /_recall/ca.der. @default certificates.rootCertificatePem */
  caCertificatePem?: string;
  /** Longest time a client may take to finish the TLS handshake, in ms. @default 10000 */
  handshakeTimeoutMs?: number;
  /** Where a redirected connection was going, for clients without SNI or Host (iptables REDIRECT hides it). */
  originalDestination?: OriginalDestination;
  /** Largest request body accepted, in bytes. @default 67108864 */
  maxRequestBodyBytes?: number;
  logger?: Logger;
}

function unmapped(ip: string | undefined): string {
  if (!ip) return '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export class HTTPSServer {
  readonly #tcp: net.Server;
  readonly #http: http.Server;
  readonly #lifecycle: ServerLifecycle;
  readonly #options: HTTPSServerOptions;
  readonly #logger: Logger;

  constructor(options: HTTPSServerOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'https' });
    this.#http = http.createServer(
      { keepAlive: true },
      createRequestHandler({
        exchanger: options.exchanger,
        scheme: 'https',
        nameMap: options.nameMap,
        caCertificatePem: options.caCertificatePem ?? options.certificates.rootCertificatePem,
        maxRequestBodyBytes: options.maxRequestBodyBytes,
        originalDestination: options.originalDestination,
        logger: this.#logger,
      }),
    );
    this.#http.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) =>
      answerClientError(error, socket, this.#logger),
    );
    // pauseOnConnect: nothing is read before the TLS layer wraps the socket, so the ClientHello is not lost.
    this.#tcp = net.createServer({ pauseOnConnect: true }, (socket) => {
      this.#accept(socket).catch((error: unknown) => {
        this.#logger.warn({ err: error }, 'connection dropped before TLS');
        socket.destroy();
      });
    });
    this.#lifecycle = new ServerLifecycle(this.#tcp);
  }

  #nameFor(address: string): string {
    return this.#options.nameMap?.nameForAddress(address) ?? address;
  }

  async #accept(socket: Socket): Promise<void> {
    socket.on('error', () => {
      // The TLS socket wrapping it reports errors; this keeps a reset before wrapping from crashing the process.
    });
    const source = this.#options.certificates;
    const destination = (await this.#options.originalDestination?.(socket)) ?? unmapped(socket.localAddress);
    const defaultName = this.#nameFor(destination);
    // Without a certificate for the default name, only clients sending SNI can complete the handshake.
    const secureContext = await source.secureContextFor(defaultName).catch((error: unknown) => {
      this.#logger.warn(
        { err: error, name: defaultName },
        'no certificate for the connection address: SNI only',
      );
      return tls.createSecureContext();
    });
    if (socket.destroyed || this.#lifecycle.closed) {
      socket.destroy();
      return;
    }
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      ALPNProtocols: ['http/1.1'],
      SNICallback: (servername, callback) => {
        source.secureContextFor(servername.toLowerCase()).then(
          (context) => callback(null, context),
          (error: Error) => {
            this.#logger.warn({ err: error, servername }, 'no certificate for SNI name');
            callback(error, undefined);
          },
        );
      },
    });
    this.#lifecycle.track(secure);
    const timeoutMs = this.#options.handshakeTimeoutMs ?? 10_000;
    const timer = setTimeout(() => secure.destroy(), timeoutMs);
    timer.unref();
    secure.once('secure', () => clearTimeout(timer));
    secure.once('close', () => clearTimeout(timer));
    secure.on('error', (error) => {
      this.#logger.debug({ err: error }, 'TLS connection failed');
      secure.destroy();
    });
    this.#http.emit('connection', secure);
    socket.resume();
  }

  /** Starts listening on the options' host and port (default 127.0.0.1:0). */
  async listen(): Promise<AddressInfo> {
    return this.#lifecycle.listen(this.#options, 'HTTPSServer');
  }

  /** The bound address and port. */
  address(): AddressInfo {
    return this.#lifecycle.address('HTTPSServer');
  }

  /** Stops listening and cuts open connections. Idempotent. Does not close the exchanger. */
  async close(): Promise<void> {
    await this.#lifecycle.close();
    this.#http.closeAllConnections();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Creates an `HTTPSServer` and waits until it listens. */
export async function startHTTPSServer(options: HTTPSServerOptions): Promise<HTTPSServer> {
  const server = new HTTPSServer(options);
  await server.listen();
  return server;
}
