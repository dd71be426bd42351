/**
 * `H2UpstreamClient`: record mode's live upstream for hosts whose real server chose HTTP/2. HTTPS requests to a
 * host the protocol choice names `h2` go over one node:http2 session per origin (multiplexed, recycled after
 * `maxStreamsPerSession` streams or when the server sends GOAWAY); every other request goes to the inner exchanger
 * (an `HTTPClient`). Answers the status, the headers (without pseudo-headers), the body as it arrives and the
 * trailers once the body ended.
 */
import http2 from 'node:http2';
import { STATUS_CODES } from 'node:http';
import tls from 'node:tls';
import type { LookupFunction } from 'node:net';
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';
import type { RawHeaders, RecordedRequest } from '../archive/archive-types.js';
import type { ExchangeOptions, ExchangeResponse, HttpExchanger } from '../http/http-exchanger.js';
import { splitHost, withoutHeaders, withoutHopByHop } from '../http/http-headers.js';
import { refusedUpstreamKind } from '../http/upstream-policy.js';
import type { ProtocolChoice } from './alpn-choice.js';

export interface H2UpstreamClientOptions {
  /** Answers every request not sent over HTTP/2 (an `HTTPClient`). Closed by `close()`. */
  inner: HttpExchanger;
  /** Which hosts speak h2 (record mode: the `UpstreamProtocolProbe` the HTTPS server uses). */
  protocols: Pick<ProtocolChoice, 'chosen'>;
  /** PEM certificates trusted in addition to the system roots. */
  extraCAs?: string[];
  /** Resolves upstream names. @default the operating system's resolver */
  lookup?: LookupFunction;
  /** Connect to loopback and this machine's own addresses too (tests with local origins). @default false */
  allowLocalUpstreams?: boolean;
  /** Longest silence on a stream, ms. @default 30000 */
  timeoutMs?: number;
  /** Streams sent on one session before a new one is opened. @default 10000 */
  maxStreamsPerSession?: number;
  logger?: Logger;
}

/** Response headers of an HTTP/2 stream as raw pairs, without pseudo-headers. */
function pairsOfH2(headers: http2.IncomingHttpHeaders): RawHeaders {
  const pairs: RawHeaders = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) pairs.push([name, String(one)]);
  }
  return pairs;
}

interface PooledSession {
  session: http2.ClientHttp2Session;
  streams: number;
}

export class H2UpstreamClient implements HttpExchanger {
  readonly #options: H2UpstreamClientOptions;
  readonly #sessions = new Map<string, PooledSession>();
  readonly #logger: Logger;
  readonly #ca: string[] | undefined;

  constructor(options: H2UpstreamClientOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'h2-client' });
    this.#ca = options.extraCAs?.length ? [...tls.rootCertificates, ...options.extraCAs] : undefined;
  }

  exchange(request: RecordedRequest, options: ExchangeOptions = {}): Promise<ExchangeResponse> {
    const target = splitHost(request.host, 443);
    if (request.scheme !== 'https' || !target || this.#options.protocols.chosen(target.hostname) !== 'h2')
      return this.#options.inner.exchange(request, options);
    return this.#send(request, `https://${request.host}`, options);
  }

  #session(origin: string): http2.ClientHttp2Session {
    const pooled = this.#sessions.get(origin);
    if (pooled && !pooled.session.closed && !pooled.session.destroyed) return pooled.session;
    const { lookup } = this.#options;
    const session = http2.connect(origin, { ...(this.#ca ? { ca: this.#ca } : {}), ...(lookup ? { lookup } : {}) });
    const entry = { session, streams: 0 };
    this.#sessions.set(origin, entry);
    const forget = (): void => {
      if (this.#sessions.get(origin) === entry) this.#sessions.delete(origin);
    };
    session.once('close', forget);
    session.once('goaway', forget);
    session.on('error', (error) => this.#logger.debug({ err: error, origin }, 'HTTP/2 upstream session failed'));
    session.socket.once('connect', () => {
      const refused = this.#options.allowLocalUpstreams ? undefined : refusedUpstreamKind(session.socket.remoteAddress ?? '');
      if (refused) session.destroy(new Error(`${origin} is ${refused}: refused (allowLocalUpstreams is off)`));
    });
    session.unref();
    return session;
  }

  #send(request: RecordedRequest, origin: string, options: ExchangeOptions): Promise<ExchangeResponse> {
    const url = `${origin}${request.target}`;
    const session = this.#session(origin);
    const entry = this.#sessions.get(origin);
    if (entry && ++entry.streams >= (this.#options.maxStreamsPerSession ?? 10_000)) {
      this.#sessions.delete(origin); // this stream is the session's last; the next request opens a new one
      queueMicrotask(() => session.close());
    }
    const headers: http2.OutgoingHttpHeaders = {
      ':method': request.method,
      ':path': request.target,
      ':authority': request.host,
      ':scheme': 'https',
    };
    for (const [name, value] of withoutHeaders(withoutHopByHop(request.headers), ['host', 'content-length'])) {
      const key = name.toLowerCase();
      const had = headers[key];
      headers[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [String(had)]), value];
    }
    if (request.body.length > 0) headers['content-length'] = String(request.body.length);
    return new Promise((resolve, reject) => {
      const stream = session.request(headers, { endStream: request.body.length === 0 });
      const onAbort = (): void => void stream.close(http2.constants.NGHTTP2_CANCEL);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => options.signal?.removeEventListener('abort', onAbort));
      const timeoutMs = this.#options.timeoutMs ?? 30_000;
      stream.setTimeout(timeoutMs, () =>
        stream.destroy(
          new RecallError(RECALL_ERROR_CODES.UPSTREAM_TIMEOUT, `${url}: no data from the upstream for ${timeoutMs} ms`),
        ),
      );
      let trailers: RawHeaders | undefined;
      stream.once('trailers', (received: http2.IncomingHttpHeaders) => (trailers = pairsOfH2(received)));
      stream.once('error', (error: NodeJS.ErrnoException) => {
        const failure =
          error instanceof RecallError
            ? error
            : new RecallError(RECALL_ERROR_CODES.UPSTREAM_CONNECT, `HTTP/2 request to ${url} failed: ${error.code ?? error.message}`, { cause: error });
        reject(failure);
      });
      stream.once('response', (received: http2.IncomingHttpHeaders) => {
        const status = Number(received[':status'] ?? 502);
        resolve({
          status,
          statusText: STATUS_CODES[status] ?? '',
          httpVersion: '2.0',
          headers: pairsOfH2(received),
          body: stream,
          trailers: () => trailers,
        });
      });
      if (request.body.length > 0) stream.end(request.body);
    });
  }

  async close(): Promise<void> {
    for (const { session } of this.#sessions.values()) session.close();
    this.#sessions.clear();
    await this.#options.inner.close();
  }
}
