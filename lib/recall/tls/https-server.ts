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
import { silentLogger } from '../../logging.js';
import type { HttpExchanger } from '../http/http-exchanger.js';
import { answerClientError } from '../http/http-server.js';
import { prewarmCertificates } from './prewarm-certificates.js';
import { continueOrRefuse, createRequestHandler, type NameForAddress, type OriginalDestination } from '../http/request-handler.js';
import { ServerLifecycle, type ListenOptions } from '../server-lifecycle.js';
import { applyHttpTimeouts, SourceGate, type ClientPolicy, type HttpTimeouts } from '../connection-limits.js';
import { answerAlpn, HTTP1_ONLY, type ProtocolChoice } from '../http2/alpn-choice.js';
import { H2SessionServer } from '../http2/h2-session-server.js';
import { peekServerName } from './client-hello.js';
import type { WebSocketExchanger } from '../websocket/websocket-exchanger.js';
import { createExtendedConnectHandler, createUpgradeHandler, webSocketFor } from '../websocket/upgrade-handler.js';

/**
 * Gives the TLS context (leaf certificate and key) to present for a host name or an IP address.
 * `CertificateAuthority` implements it; `rootCertificatePem`, when present, is served at /_recall/ca.pem.
 */
export interface LeafCertificateSource {
  secureContextFor(servername: string): Promise<tls.SecureContext>;
  readonly rootCertificatePem?: string;
}

export interface HTTPSServerOptions extends ListenOptions, ClientPolicy, HttpTimeouts {
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
  /**
   * Which protocol (h2 or http/1.1) to speak with the clients of each host: `UpstreamProtocolProbe` when recording
   * (what the real server chose), `ArchivedProtocols` in playback. @default HTTP/1.1, or h2 for a client offering only h2
   */
  protocols?: ProtocolChoice;
  /** HTTP/2 streams one session serves before it is recycled (GOAWAY; the client reconnects). @default 10000 */
  maxStreamsPerSession?: number;
  /** WebSocket upgrades (wss://), as in `HTTPServerOptions.webSocket`. */
  webSocket?: WebSocketExchanger;
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
  readonly #gate: SourceGate;
  readonly #h2: H2SessionServer;
  #closing = false;
  readonly #webSocket: WebSocketExchanger | undefined;

  constructor(options: HTTPSServerOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'https' });
    this.#gate = new SourceGate(options, 256, 'HTTPSServer', this.#logger);
    const handler = createRequestHandler({
      exchanger: options.exchanger,
      scheme: 'https',
      nameMap: options.nameMap,
      caCertificatePem: options.caCertificatePem ?? options.certificates.rootCertificatePem,
      maxRequestBodyBytes: options.maxRequestBodyBytes,
      originalDestination: options.originalDestination,
      logger: this.#logger,
    });
    // This server never listens: it gets TLS sockets from #accept, so Node's accept-time settings (noDelay) and
    // its header/request timers never reach them. applyHttpTimeouts and #accept set both themselves.
    this.#http = http.createServer({ keepAlive: true }, handler);
    this.#http.on('checkContinue', continueOrRefuse(options.maxRequestBodyBytes, handler));
    applyHttpTimeouts(this.#http, options, this.#logger);
    this.#webSocket = webSocketFor(options.exchanger, options.webSocket);
    let onConnect;
    if (this.#webSocket) {
      const { nameMap, originalDestination } = options;
      const upgrade = { webSocket: this.#webSocket, scheme: 'https' as const, nameMap, originalDestination, handler, logger: this.#logger };
      this.#http.on('upgrade', createUpgradeHandler(upgrade));
      onConnect = createExtendedConnectHandler(upgrade); // WebSocket over h2 (RFC 8441)
    }
    this.#h2 = new H2SessionServer(handler, { maxStreamsPerSession: options.maxStreamsPerSession, onConnect, logger: this.#logger });
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
    this.#lifecycle.trackRequests(this.#http);
  }

  #nameFor(address: string): string {
    return this.#options.nameMap?.nameForAddress(address) ?? address;
  }

  async #accept(socket: Socket): Promise<void> {
    socket.on('error', () => {
      // The TLS socket wrapping it reports errors; this keeps a reset before wrapping from crashing the process.
    });
    if (!this.#gate.admit(socket)) return;
    // Without it, Nagle's algorithm held the handshake's last flight and the first response bytes behind the
    // client's delayed ACK: about 40 ms before the first byte on every new connection (net.Server sets it only
    // for http.Server's own accepts).
    socket.setNoDelay(true);
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
    // The protocol is chosen synchronously during the handshake and before Node's SNI callback: the name is read
    // from the ClientHello first, so the choice can look it up (or ask the real server) ahead of time.
    const protocols = this.#options.protocols ?? HTTP1_ONLY;
    if (this.#options.protocols) {
      const name = (await peekServerName(socket, this.#options.handshakeTimeoutMs ?? 10_000)) ?? defaultName;
      // The SNI callback will want this name's certificate: on first contact in record mode, mint it while the real
      // server is asked for its protocol, not after (the source caches it; a failure is the SNI callback's to report).
      if (name !== defaultName) source.secureContextFor(name.toLowerCase()).catch(() => undefined);
      await protocols.prepare(name);
    }
    if (socket.destroyed || this.#lifecycle.closed || this.#closing) {
      socket.destroy();
      return;
    }
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      ALPNCallback: ({ servername, protocols: offered }) =>
        // `servername` is false, not undefined, when the client sent no SNI.
        answerAlpn(protocols.chosen(servername || defaultName), offered),
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
    this.#lifecycle.track(secure, socket);
    const timeoutMs = this.#options.handshakeTimeoutMs ?? 10_000;
    const timer = setTimeout(() => secure.destroy(), timeoutMs);
    timer.unref();
    secure.once('secure', () => clearTimeout(timer));
    secure.once('close', () => clearTimeout(timer));
    secure.on('error', (error) => {
      this.#logger.debug({ err: error }, 'TLS connection failed');
      secure.destroy();
    });
    secure.once('secure', () => {
      if (secure.alpnProtocol === 'h2') this.#h2.accept(secure);
      else this.#http.emit('connection', secure);
    });
    socket.resume();
  }

  /** Starts listening on the options' host and port (default 127.0.0.1:0). */
  async listen(): Promise<AddressInfo> {
    await prewarmCertificates(this.#options.certificates, this.#options.exchanger, this.#logger); // issue 18
    return this.#lifecycle.listen(this.#options, 'HTTPSServer');
  }

  /** The bound address and port. */
  address(): AddressInfo {
    return this.#lifecycle.address('HTTPSServer');
  }

  /**
   * Stops accepting, lets requests in flight finish (at most `drainTimeoutMs`), then cuts what is left. Idempotent.
   * Does not close the exchanger.
   */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#webSocket?.close();
    // HTTP/2 streams are not counted per connection like HTTP/1.1 requests: their sessions are drained first.
    await this.#h2.drain(this.#options.drainTimeoutMs ?? 5000);
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

/** Creates an `HTTPSServer` and waits until it listens. */
export async function startHTTPSServer(options: HTTPSServerOptions): Promise<HTTPSServer> {
  const server = new HTTPSServer(options);
  await server.listen();
  return server;
}
