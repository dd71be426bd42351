/**
 * `HTTPClient`: the live upstream. Sends a request to the host the client named, verifies upstream TLS against the
 * system roots plus `extraCAs`, pools keep-alive connections per origin, and answers with the status, the raw
 * headers and the body bytes exactly as received (never decompressed). Built on node:http/https because they
 * expose raw header order and casing both ways.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { lookup as systemLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';
import type { RecordedRequest } from '../archive/archive-types.js';
import type { ExchangeOptions, ExchangeResponse, HttpExchanger } from './http-exchanger.js';
import { flatOf, pairsOf, splitHost, withoutHeaders, withoutHopByHop } from './http-headers.js';
import { refusedUpstreamKind, upstreamRefused } from './upstream-policy.js';

export { splitHost } from './http-headers.js';

export interface HTTPClientOptions {
  /** PEM certificates trusted for upstream TLS in addition to the system roots (a lab's own public CA). */
  extraCAs?: string[];
  /** Longest silence allowed on an upstream connection, before and during the response, in ms. @default 30000 */
  timeoutMs?: number;
  /** Most concurrent connections per origin. @default 64 */
  maxSocketsPerOrigin?: number;
  /** Resolves upstream names (like curl's --resolve). @default the operating system's resolver */
  lookup?: LookupFunction;
  /**
   * Forward to this machine's loopback and own addresses, and to link-local, unspecified, multicast and
   * broadcast addresses. Off by default: the upstream comes from the device, and those addresses reach services
   * of the Recall server itself (lib/recall/http/upstream-policy.ts). Turn it on only in a test whose origin servers
   * run on this machine. @default false
   */
  allowLocalUpstreams?: boolean;
  logger?: Logger;
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Methods safe to send twice (RFC 9110 §9.2.2): only these are retried on a stale keep-alive connection. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

function classify(error: NodeJS.ErrnoException, url: string, phase: string): RecallError {
  if (error instanceof RecallError) return error;
  const code = error.code ?? '';
  const isTls = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code);
  const recall =
    CONNECT_CODES.has(code) || isTls
      ? RECALL_ERROR_CODES.UPSTREAM_CONNECT
      : RECALL_ERROR_CODES.UPSTREAM_PROTOCOL;
  const hint = isTls ? 'trust the upstream CA with extraCAs' : 'check the upstream is up and reachable';
  return new RecallError(recall, `${phase} ${url} failed: ${code || error.message}; ${hint}`, {
    cause: error,
  });
}

/**
 * Wraps a lookup so that only addresses the upstream policy allows come back: Node connects to what the lookup
 * returns, so this is the one place every upstream address passes, whichever name or DNS answer led to it.
 */
function checkedLookup(lookup: LookupFunction): LookupFunction {
  type Answer = (
    error: NodeJS.ErrnoException | null,
    address: string | LookupAddress[],
    family?: number,
  ) => void;
  const resolve = lookup as unknown as (hostname: string, options: LookupOptions, callback: Answer) => void;
  return ((hostname: string, options: LookupOptions, callback: Answer) => {
    resolve(hostname, options, (error, address, family) => {
      if (error) return callback(error, '');
      const all = Array.isArray(address) ? address : [{ address, family: family ?? 4 }];
      const allowed = all.filter((entry) => refusedUpstreamKind(entry.address) === undefined);
      const first = all[0];
      if (allowed.length === 0 && first)
        return callback(upstreamRefused(hostname, first.address, refusedUpstreamKind(first.address)!), '');
      if (options.all) callback(null, allowed);
      else callback(null, allowed[0]?.address ?? '', allowed[0]?.family ?? 4);
    });
  }) as unknown as LookupFunction;
}

export class HTTPClient implements HttpExchanger {
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly #timeoutMs: number;
  readonly #lookup: LookupFunction;
  readonly #allowLocal: boolean;
  readonly #logger: Logger;
  #closed = false;

  constructor(options: HTTPClientOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    if (!(this.#timeoutMs > 0)) {
      throw new RecallError(
        RECALL_ERROR_CODES.INVALID_OPTION,
        `Expected timeoutMs to be a positive number of ms, got ${String(options.timeoutMs)}`,
      );
    }
    const maxSockets = options.maxSocketsPerOrigin ?? 64;
    this.#http = new http.Agent({ keepAlive: true, maxSockets });
    // One context for every upstream connection: given as `ca`, the system roots plus the extra CAs were parsed
    // into a new OpenSSL context on each connection (27-32 ms each, issue 18).
    const secureContext = options.extraCAs?.length
      ? tls.createSecureContext({ ca: [...tls.rootCertificates, ...options.extraCAs] })
      : undefined;
    this.#https = new https.Agent({
      keepAlive: true,
      maxSockets,
      ...(secureContext ? { secureContext } : {}),
    });
    this.#allowLocal = options.allowLocalUpstreams ?? false;
    this.#lookup = this.#allowLocal
      ? (options.lookup ?? systemLookup)
      : checkedLookup(options.lookup ?? systemLookup);
    this.#logger = (options.logger ?? silentLogger).child({ component: 'http-client' });
  }

  async exchange(request: RecordedRequest, options: ExchangeOptions = {}): Promise<ExchangeResponse> {
    if (this.#closed)
      throw new RecallError(
        RECALL_ERROR_CODES.CLOSED,
        'HTTPClient.exchange() called after close(); create a new HTTPClient',
      );
    try {
      return await this.#send(request, options, true);
    } catch (error) {
      // A keep-alive connection the upstream closed just as we reused it: one fresh attempt is safe.
      if ((error as { retryable?: boolean }).retryable) return await this.#send(request, options, false);
      throw error;
    }
  }

  #send(request: RecordedRequest, options: ExchangeOptions, mayRetry: boolean): Promise<ExchangeResponse> {
    const url = `${request.scheme}://${request.host}${request.target}`;
    const secure = request.scheme === 'https';
    const target = splitHost(request.host, secure ? 443 : 80);
    if (!target) {
      return Promise.reject(
        new RecallError(
          RECALL_ERROR_CODES.UPSTREAM_CONNECT,
          `${url}: cannot tell host and port from "${request.host}"; fix the Host header`,
        ),
      );
    }
    const headers = withoutHeaders(withoutHopByHop(request.headers), ['content-length']);
    if (request.body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE'].includes(request.method)) {
      headers.push(['Content-Length', String(request.body.length)]);
    }
    if (!headers.some(([n]) => n.toLowerCase() === 'host')) headers.unshift(['Host', request.host]);
    const requestOptions: https.RequestOptions = {
      agent: secure ? this.#https : this.#http,
      host: target.hostname,
      port: target.port,
      method: request.method,
      path: request.target,
      headers: flatOf(headers) as unknown as http.OutgoingHttpHeaders,
      setHost: false,
      ...(secure && !isIP(target.hostname) ? { servername: target.hostname } : {}),
      lookup: this.#lookup,
    };
    // An address literal is never looked up: the policy sees it here instead.
    const refused =
      isIP(target.hostname) && !this.#allowLocal ? refusedUpstreamKind(target.hostname) : undefined;
    if (refused) return Promise.reject(upstreamRefused(target.hostname, target.hostname, refused));
    this.#logger.debug({ method: request.method, url }, 'upstream request');
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(requestOptions);
      let answered = false;
      const onAbort = (): void =>
        void req.destroy(
          new RecallError(RECALL_ERROR_CODES.UPSTREAM_PROTOCOL, `${url}: aborted by the client`),
        );
      options.signal?.addEventListener('abort', onAbort, { once: true });
      req.setTimeout(this.#timeoutMs, () => {
        req.destroy(
          new RecallError(
            RECALL_ERROR_CODES.UPSTREAM_TIMEOUT,
            `${url}: no data from the upstream for ${this.#timeoutMs} ms; raise timeoutMs or check the upstream`,
          ),
        );
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (answered) return; // the response stream reports it
        const failure = classify(error, url, 'upstream request to');
        if (mayRetry && req.reusedSocket && error.code === 'ECONNRESET' && IDEMPOTENT.has(request.method)) {
          Object.assign(failure, { retryable: true });
        }
        this.#logger.debug({ url, err: failure }, 'upstream failed');
        reject(failure);
      });
      req.on('response', (res) => {
        answered = true;
        res.on('error', () => {
          // Reported to whoever iterates the body; this listener only keeps an unread failure from crashing.
        });
        res.on('close', () => options.signal?.removeEventListener('abort', onAbort));
        req.on('error', (error: NodeJS.ErrnoException) =>
          res.destroy(classify(error, url, 'reading the body of')),
        );
        resolve({
          status: res.statusCode ?? 502,
          statusText: res.statusMessage ?? '',
          httpVersion: res.httpVersion,
          headers: pairsOf(res.rawHeaders),
          body: res,
        });
      });
      req.end(request.body);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#http.destroy();
    this.#https.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
