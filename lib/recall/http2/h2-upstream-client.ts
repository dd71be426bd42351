/**
 * `H2UpstreamClient`: record mode's live upstream for hosts whose real server chose HTTP/2. HTTPS requests to a
 * host the protocol choice names `h2` go over one node:http2 session per origin (multiplexed, recycled after
 * `maxStreamsPerSession` streams or when the server sends GOAWAY); every other request goes to the inner exchanger
 * (an `HTTPClient`). Answers the status, the headers (without pseudo-headers), the body as it arrives and the
 * trailers once the body ended. A streamed request body (a gRPC call) is forwarded as it arrives, at the pace the
 * upstream's flow control allows; a request the client cancels is cancelled upstream (RST_STREAM CANCEL).
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
import { readWhole } from '../grpc/streamed-request.js';
import { drainedOrClosed } from '../drained-or-closed.js';

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

/**
 * Sends a streamed request body upstream chunk by chunk, waiting for the upstream's flow control when it is full,
 * and half-closes once the client did. A body that fails (too large, the client gone) resets the stream.
 */
async function forward(body: AsyncIterable<Buffer>, stream: http2.ClientHttp2Stream, url: string): Promise<void> {
  try {
    for await (const chunk of body) {
      if (stream.destroyed || stream.closed) return; // leaving the loop stops reading the client
      if (!stream.write(chunk)) await drainedOrClosed(stream);
    }
    if (!stream.destroyed && !stream.closed) stream.end();
  } catch (error) {
    stream.destroy(new RecallError(RECALL_ERROR_CODES.UPSTREAM_PROTOCOL, `${url}: the client's request stream failed: ${(error as Error).message}`, { cause: error }));
  }
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

  /** A streamed request body goes out as it arrives over h2; the inner exchanger gets it read whole. */
  readonly streamsRequestBodies = true;

  async exchange(request: RecordedRequest, options: ExchangeOptions = {}): Promise<ExchangeResponse> {
    const target = splitHost(request.host, 443);
    if (request.scheme === 'https' && target && this.#options.protocols.chosen(target.hostname) === 'h2')
      return this.#send(request, `https://${request.host}`, options);
    const { requestBody, ...rest } = options;
    const whole = requestBody && !this.#options.inner.streamsRequestBodies ? { ...request, body: await readWhole(requestBody) } : undefined;
    return this.#options.inner.exchange(whole ?? request, whole ? rest : options);
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
    const streamed = options.requestBody;
    if (!streamed && request.body.length > 0) headers['content-length'] = String(request.body.length);
    return new Promise((resolve, reject) => {
      const stream = session.request(headers, { endStream: !streamed && request.body.length === 0 });
      // Cancelled upstream (RST_STREAM CANCEL), and the body fails rather than ending: nothing is recorded of it.
      const onAbort = (): void => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        stream.destroy(new RecallError(RECALL_ERROR_CODES.UPSTREAM_PROTOCOL, `${url}: cancelled by the client`));
      };
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
      // Closed before any response (cancelled, reset by the upstream): after a response this does nothing.
      stream.once('close', () =>
        reject(new RecallError(RECALL_ERROR_CODES.UPSTREAM_PROTOCOL, `HTTP/2 request to ${url} closed before a response (code ${stream.rstCode ?? 0})`)),
      );
      stream.once('response', (received: http2.IncomingHttpHeaders, flags: number) => {
        const status = Number(received[':status'] ?? 502);
        // A streaming call may stay quiet for long once it is answered (a watch); the client decides when to stop.
        if (streamed) stream.setTimeout(0);
        resolve({
          status,
          statusText: STATUS_CODES[status] ?? '',
          httpVersion: '2.0',
          headers: pairsOfH2(received),
          body: stream,
          trailers: () => trailers,
          // The HEADERS frame ended the stream (a gRPC trailers-only reply); `endAfterHeaders` is set for servers only.
          headersOnly: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0,
        });
      });
      if (streamed) void forward(streamed, stream, url);
      else if (request.body.length > 0) stream.end(request.body);
    });
  }

  async close(): Promise<void> {
    for (const { session } of this.#sessions.values()) session.close();
    this.#sessions.clear();
    await this.#options.inner.close();
  }
}
