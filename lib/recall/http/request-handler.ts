/**
 * The request handler both transparent servers share: works out which host the client meant, serves the root CA
 * at its two fixed paths, reads the whole request body (chunked or not; Node answers `Expect: 100-continue`), hands
 * the request to the exchanger and streams its answer back without hop-by-hop headers. An upstream that cannot be
 * reached is answered 502, one that is too slow 504: the client always gets a response.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { isAutotestError } from '../../errors.js';
import { RECALL_ERROR_CODES } from '../errors.js';
import type { RawHeaders, RecordedRequest } from '../archive/archive-types.js';
import { inMemoryBytes, type HttpExchanger } from './http-exchanger.js';
import { flatOf, headerValue, pairsOf, splitHost, withoutHopByHop } from './http-headers.js';
import { peekEmpty, respondHeadersOnly } from '../http2/h2-empty-reply.js';
import { encodeGrpcMessage, GRPC_STATUS } from '../grpc/grpc-messages.js';
import { streamedRequestOf } from '../grpc/streamed-request.js';
import { drainedOrClosed } from '../drained-or-closed.js';

/**
 * Where a redirected connection was really going: under iptables REDIRECT `socket.localAddress` is Recall's own
 * address, and only the kernel's connection tracking still knows the original (server/net/original-destination.ts).
 */
export type OriginalDestination = (socket: IncomingMessage['socket']) => Promise<string | undefined>;

/** Maps an address the client connected to back to the name it looked up (the DNS half implements it). */
export interface NameForAddress {
  nameForAddress(ip: string): string | undefined;
}

export interface RequestHandlerOptions {
  exchanger: HttpExchanger;
  scheme: 'http' | 'https';
  nameMap?: NameForAddress | undefined;
  /** Names requests without a Host header (or SNI) by the connection's original destination. */
  originalDestination?: OriginalDestination | undefined;
  /** Root CA certificate served at `/_recall/ca.pem` and `/_recall/ca.der`; those paths answer 404 without it. */
  caCertificatePem?: string | undefined;
  /** Largest request body accepted, in bytes; larger ones get 413. @default 67108864 (64 MiB) */
  maxRequestBodyBytes?: number | undefined;
  logger: Logger;
}

/** The only URL paths Recall answers itself, on every host. */
export const CA_PEM_PATH = '/_recall/ca.pem';
export const CA_DER_PATH = '/_recall/ca.der';

function derOf(pem: string): Buffer {
  const match = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem);
  return Buffer.from((match?.[1] ?? '').replace(/\s+/g, ''), 'base64');
}

function plain(res: ServerResponse, status: number, text: string, extra: Array<[string, string]> = []): void {
  const body = Buffer.from(`${text}\n`, 'utf8');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // The reason phrase is given: a failed writeHead (a recorded header with CR/LF) leaves its own behind, which
  // turned a 502 into `HTTP/1.1 502 OK`.
  res.writeHead(
    status,
    STATUS_CODES[status] ?? 'Error',
    flatOf([
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(body.length)],
      ...extra,
    ]),
  );
  res.end(body);
}

function unmapped(ip: string | undefined): string | undefined {
  return ip?.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/** Host the client meant: Host header, absolute-form target, SNI, then the address→name map. */
export function hostOf(
  req: IncomingMessage,
  absoluteHost: string | undefined,
  nameMap: NameForAddress | undefined,
): string | undefined {
  // HTTP/2 names the host in the `:authority` pseudo-header (a Host header is optional there).
  const header = req.headers.host ?? absoluteHost ?? req.headers[':authority']?.toString();
  if (header) return header.toLowerCase();
  const sni = (req.socket as TLSSocket).servername;
  if (typeof sni === 'string' && sni !== '') return sni.toLowerCase();
  const local = unmapped(req.socket.localAddress);
  return local ? nameMap?.nameForAddress(local)?.toLowerCase() : undefined;
}

/**
 * True when the request names this server's own address and port: forwarding it would send it straight back here,
 * over and over (a client pointed at Recall directly instead of through a redirect).
 */
export function isSelf(host: string, scheme: 'http' | 'https', req: IncomingMessage): boolean {
  const target = splitHost(host, scheme === 'https' ? 443 : 80);
  const local = unmapped(req.socket.localAddress);
  if (!target || target.port !== req.socket.localPort || !local) return false;
  const name = unmapped(target.hostname);
  return (
    name === local ||
    name === 'localhost' ||
    (isIP(name ?? '') !== 0 && (name === '0.0.0.0' || name === '::'))
  );
}

const EMPTY = Buffer.alloc(0);

/**
 * One signal per client connection, aborted when it closes: an exchange still waiting for its upstream then stops.
 * Per connection rather than per request, so a keep-alive client replaying from memory does not pay for a
 * controller and a listener on every request. Under HTTP/2 `req.socket` is a new proxy for every stream (whose
 * 'close' is the stream's): the connection there is the session; keyed on the proxy, a controller made and aborted
 * per stream took about a fifth of h2 playback's CPU. (A gRPC call, streamed, has its own per-stream signal.)
 */
const closeSignals = new WeakMap<object, AbortSignal>();
function closeSignalOf(req: IncomingMessage): AbortSignal {
  const connection: Pick<IncomingMessage['socket'], 'once'> =
    req.httpVersionMajor === 2 ? (req as unknown as { stream: { session: IncomingMessage['socket'] } }).stream.session : req.socket;
  let signal = closeSignals.get(connection);
  if (!signal) {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal); // an HTTP/2 session's streams (256 at once) each listen to it
    connection.once('close', () => controller.abort());
    signal = controller.signal;
    closeSignals.set(connection, signal);
  }
  return signal;
}

/**
 * The headers to send, flat, without hop-by-hop fields. Playback hands out the same header list for every
 * replay of a recording, so the result is kept for as long as that list lives.
 */
const forwarded = new WeakMap<RawHeaders, string[]>();
function forwardedHeaders(headers: RawHeaders): string[] {
  let flat = forwarded.get(headers);
  if (!flat) {
    flat = flatOf(withoutHopByHop(headers));
    forwarded.set(headers, flat);
  }
  return flat;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  // Most requests (GET, HEAD) have no body: skip the async iteration on the hot path. An HTTP/2 body needs no
  // Content-Length: there only the end of the stream with the headers says there is none.
  const noBody =
    req.httpVersionMajor === 2
      ? (req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders
      : req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
  if (noBody) {
    req.resume();
    return EMPTY;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;

/** Queues HTTP/2 trailers to follow the body (Node sends them after the last DATA frame); HTTP/1.1 drops them. */
function sendTrailers(req: IncomingMessage, res: ServerResponse, trailers: RawHeaders | undefined): void {
  if (!trailers?.length || req.httpVersionMajor !== 2) return;
  const fields: Record<string, string[]> = {};
  for (const [name, value] of trailers) (fields[name.toLowerCase()] ??= []).push(value);
  res.addTrailers(fields);
}

/** A Content-Length over the limit, announced before any byte of the body. */
function announcesTooMuch(req: IncomingMessage, limit: number): boolean {
  const length = Number(req.headers['content-length']);
  return Number.isFinite(length) && length > limit;
}

/**
 * The servers' 'checkContinue' listener: a body larger than the limit is refused with 413 before the client sends
 * it (Node would answer `100 Continue` to anything); any other request gets its 100 and goes to `handler`.
 */
export function continueOrRefuse(
  limit: number | undefined,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  const max = limit ?? DEFAULT_BODY_LIMIT;
  return (req, res) => {
    if (announcesTooMuch(req, max)) {
      res.shouldKeepAlive = false;
      return plain(res, 413, `Recall: request body larger than ${max} bytes`, [['Connection', 'close']]);
    }
    res.writeContinue();
    handler(req, res);
  };
}

export function createRequestHandler(
  options: RequestHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { exchanger, scheme, nameMap, logger } = options;
  const limit = options.maxRequestBodyBytes ?? DEFAULT_BODY_LIMIT;
  const pem = options.caCertificatePem;
  const der = pem ? derOf(pem) : undefined;

  function serveCa(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (!pem || !der) return plain(res, 404, 'Recall: no CA certificate is configured on this server');
    const body = path === CA_PEM_PATH ? Buffer.from(pem) : der;
    const type = path === CA_PEM_PATH ? 'application/x-pem-file' : 'application/x-x509-ca-cert';
    res.writeHead(
      200,
      flatOf([
        ['Content-Type', type],
        ['Content-Length', String(body.length)],
      ]),
    );
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.sendDate = false; // the recorded Date (if any) is the only one
    let target = req.url ?? '/';
    let absoluteHost: string | undefined;
    const absolute = /^https?:\/\/([^/?#]*)(.*)$/i.exec(target);
    if (absolute) {
      absoluteHost = absolute[1];
      target = absolute[2] || '/';
    }
    const path = target.split('?', 1)[0];
    if ((path === CA_PEM_PATH || path === CA_DER_PATH) && (req.method === 'GET' || req.method === 'HEAD'))
      return serveCa(req, res, path);
    let host = hostOf(req, absoluteHost, nameMap);
    if (!host && options.originalDestination) {
      const original = await options.originalDestination(req.socket);
      if (original) host = nameMap?.nameForAddress(original)?.toLowerCase() ?? original;
    }
    if (!host)
      return plain(res, 400, 'Recall: the request has no Host header and the connection gives no name');
    if (isSelf(host, scheme, req)) {
      return plain(res, 508, `Recall: ${host} is this Recall server itself; send requests for other hosts`, [
        ['x-recall-error', RECALL_ERROR_CODES.LOOP],
      ]);
    }
    // gRPC over HTTP/2 is streamed both ways (lib/recall/grpc/streamed-request.ts); anything else is read whole.
    const streamed = streamedRequestOf(req, res, exchanger, limit);
    const body = streamed ? EMPTY : announcesTooMuch(req, limit) ? undefined : await readBody(req, limit);
    if (!body)
      return plain(res, 413, `Recall: request body larger than ${limit} bytes`, [['Connection', 'close']]);
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      scheme,
      host,
      target,
      httpVersion: req.httpVersion,
      // HTTP/2 pseudo-headers repeat the method, scheme, host and target, and no HTTP/1.1 upstream takes them.
      headers: pairsOf(req.rawHeaders).filter(([name]) => !name.startsWith(':')),
      body,
    };
    let response;
    try {
      const exchangeOptions = streamed ? { signal: streamed.signal, requestBody: streamed.body } : { signal: closeSignalOf(req) };
      response = await exchanger.exchange(request, exchangeOptions);
    } catch (error) {
      const code = isAutotestError(error) ? error.code : 'ERR_RECALL_INTERNAL';
      const status = code === RECALL_ERROR_CODES.UPSTREAM_TIMEOUT ? 504 : 502;
      logger.warn({ err: error, method: request.method, host, target }, 'upstream failed');
      return plain(res, status, `Recall: ${(error as Error).message}`, [['x-recall-error', code]]);
    }
    const headers = forwardedHeaders(response.headers);
    if (req.httpVersionMajor === 2 && response.headersOnly !== false) {
      // An empty HTTP/2 reply without trailers is one HEADERS frame (gRPC's trailers-only replies need it).
      const peeked = await peekEmpty(response.body);
      if (peeked.empty && !response.trailers?.()?.length) return respondHeadersOnly(res, response.status, headers);
      response = { ...response, body: peeked.body };
    }
    try {
      // HTTP/2 has no reason phrase (Node warns when given one).
      if (req.httpVersionMajor === 2) res.writeHead(response.status, headers);
      else res.writeHead(response.status, response.statusText.replace(/[^\t\x20-\x7e]/g, ''), headers);
      // Playback bodies are in memory: head and body leave in one write.
      const bytes = inMemoryBytes(response.body);
      if (bytes) {
        sendTrailers(req, res, response.trailers?.());
        res.end(bytes.length > 0 && req.method !== 'HEAD' ? bytes : undefined);
        return;
      }
    } catch (error) {
      await response.body[Symbol.asyncIterator]().return?.();
      logger.warn(
        { err: error, host, target, status: response.status },
        'response head not writable (a header name or value the recording holds is not valid HTTP): answering 502',
      );
      return plain(res, 502, `Recall: the response head cannot be sent (${(error as Error).message})`, [
        ['x-recall-error', RECALL_ERROR_CODES.UPSTREAM_PROTOCOL],
      ]);
    }
    const iterator = response.body[Symbol.asyncIterator]();
    try {
      for (;;) {
        if (res.destroyed) {
          await iterator.return?.();
          return;
        }
        const next = await iterator.next();
        if (next.done) break;
        if (!res.write(next.value)) await drainedOrClosed(res);
      }
      sendTrailers(req, res, response.trailers?.());
      res.end();
    } catch (error) {
      if (streamed?.exceeded && !res.destroyed && !res.writableEnded) {
        // A gRPC call past the size limit: its client is told why in the trailers rather than seeing a reset.
        logger.warn({ host, target, limit }, 'gRPC request stream past maxRequestBodyBytes: answered RESOURCE_EXHAUSTED');
        const message = `Recall: the request stream passed ${limit} bytes (maxRequestBodyBytes)`;
        sendTrailers(req, res, [['grpc-status', String(GRPC_STATUS.RESOURCE_EXHAUSTED)], ['grpc-message', encodeGrpcMessage(message)]]);
        res.end();
        return;
      }
      // Headers are out: the only honest signal left is to cut the connection.
      logger.warn(
        { err: error, host, target, length: headerValue(response.headers, 'content-length') },
        'response body failed',
      );
      res.destroy();
    }
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'request handler failed');
      if (!res.headersSent) plain(res, 500, 'Recall: internal error');
      else res.destroy();
    });
  };
}
