/**
 * Opens the record-mode WebSocket to the real origin: `ws://` or `wss://` to the host the client named, the
 * client's handshake headers passed on (its key, version and extensions are the library's own), upstream TLS
 * verified against the system roots plus `extraCAs`, and every address checked against the upstream policy
 * (lib/recall/http/upstream-policy.ts) after name resolution, as `HTTPClient` does for plain requests.
 */
import { lookup as systemLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import { isIP, type LookupFunction } from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import type { RecordedRequest } from '../archive/archive-types.js';
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';
import { headerValue, splitHost, withoutHeaders, withoutHopByHop } from '../http/http-headers.js';
import { refusedUpstreamKind, upstreamRefused } from '../http/upstream-policy.js';

export interface UpstreamWebSocketOptions {
  /** PEM certificates trusted for upstream TLS besides the system roots. */
  extraCAs?: string[];
  /** Resolves upstream names. @default the operating system's resolver */
  lookup?: LookupFunction;
  /** Allow loopback and this machine's own addresses as origins (tests whose origin runs here). @default false */
  allowLocalUpstreams?: boolean;
  /** Longest wait for the upstream handshake, in ms. @default 10000 */
  handshakeTimeoutMs?: number;
}

/** The upstream socket once its 101 arrived, with that response. */
export interface UpstreamConnection {
  socket: WebSocket;
  response: IncomingMessage;
}

/** Upstream refused the upgrade: its own answer, to pass on to the client. */
export interface UpstreamRefusal {
  response: IncomingMessage;
}

const SET_BY_LIBRARY = [
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'host',
];

type Answer = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

function checkedLookup(lookup: LookupFunction, allowLocal: boolean): LookupFunction {
  const resolve = lookup as unknown as (hostname: string, options: LookupOptions, callback: Answer) => void;
  return ((hostname: string, options: LookupOptions, callback: Answer) => {
    resolve(hostname, options, (error, address, family) => {
      if (error || allowLocal) return callback(error, address, family);
      const list = Array.isArray(address) ? address : [{ address, family: family ?? 4 }];
      for (const { address: ip } of list) {
        const kind = refusedUpstreamKind(ip);
        if (kind)
          return callback(upstreamRefused(hostname, ip, kind) as NodeJS.ErrnoException, address, family);
      }
      callback(null, address, family);
    });
  }) as LookupFunction;
}

/** The subprotocols the client offered, in its order. */
export function offeredProtocols(request: RecordedRequest): string[] {
  return (headerValue(request.headers, 'sec-websocket-protocol') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/**
 * Connects to the origin of `request`. Resolves with the open connection, or with the origin's non-101 answer;
 * rejects with a `RecallError` (refused by policy, unreachable, timed out).
 */
export function connectUpstream(
  request: RecordedRequest,
  options: UpstreamWebSocketOptions,
): Promise<UpstreamConnection | UpstreamRefusal> {
  const url = `${request.scheme === 'https' ? 'wss' : 'ws'}://${request.host}${request.target}`;
  const target = splitHost(request.host, request.scheme === 'https' ? 443 : 80);
  const hostname = target?.hostname ?? request.host;
  if (isIP(hostname) !== 0 && !options.allowLocalUpstreams) {
    const kind = refusedUpstreamKind(hostname);
    if (kind) return Promise.reject(upstreamRefused(request.host, hostname, kind));
  }
  const headers = Object.fromEntries(
    withoutHeaders(withoutHopByHop(request.headers), SET_BY_LIBRARY).map(([n, v]) => [n, v]),
  );
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    const socket = new WebSocket(url, offeredProtocols(request), {
      headers,
      perMessageDeflate: false,
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
      lookup: checkedLookup(
        options.lookup ?? (systemLookup as LookupFunction),
        Boolean(options.allowLocalUpstreams),
      ),
      ca: options.extraCAs?.length ? [...tls.rootCertificates, ...options.extraCAs] : undefined,
      maxPayload: 64 * 1024 * 1024,
    });
    socket.once('upgrade', (res) => (response = res));
    // Paused until the client's side is accepted: the origin's first frames (a greeting) must not go unheard.
    socket.once('open', () => {
      socket.pause();
      resolve({ socket, response: response! });
    });
    socket.once('unexpected-response', (_req, res) => resolve({ response: res }));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof RecallError) return reject(error);
      const code = /timeout/i.test(error.message)
        ? RECALL_ERROR_CODES.UPSTREAM_TIMEOUT
        : RECALL_ERROR_CODES.UPSTREAM_CONNECT;
      reject(
        new RecallError(
          code,
          `WebSocket handshake with ${url} failed: ${error.code ?? error.message}; check the origin is up and reachable`,
          { cause: error },
        ),
      );
    });
  });
}
