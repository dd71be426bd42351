/**
 * The interceptors' WebSocket entry points: the HTTP/1.1 'upgrade' listener and the HTTP/2 extended CONNECT
 * listener (RFC 8441). A WebSocket handshake is named like any request (Host or `:authority`, SNI, the
 * address→name map or the connection's original destination) and handed to the `WebSocketExchanger`; any other
 * upgrade (curl's `Upgrade: h2c`) is answered as the plain HTTP request it also is, by the ordinary request
 * handler, without switching protocols.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { RecordedRequest } from '../archive/archive-types.js';
import type { HttpExchanger } from '../http/http-exchanger.js';
import { pairsOf } from '../http/http-headers.js';
import { PlaybackHTTPClient } from '../http/playback-http-client.js';
import { hostOf, isSelf, type NameForAddress, type OriginalDestination } from '../http/request-handler.js';
import { RECALL_ERROR_CODES } from '../errors.js';
import { ExtendedConnectHandshake, UpgradeHandshake, type ClientHandshake } from './client-handshake.js';
import { answerPlain, type WebSocketExchanger } from './websocket-exchanger.js';
import { WebSocketPlayer } from './websocket-player.js';

export interface UpgradeHandlerOptions {
  webSocket: WebSocketExchanger;
  scheme: 'http' | 'https';
  nameMap?: NameForAddress | undefined;
  originalDestination?: OriginalDestination | undefined;
  /** The ordinary request handler, for upgrades that are not WebSocket. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  logger: Logger;
}

/**
 * The WebSocket mode an interceptor uses: the one given, else playback when its exchanger is a
 * `PlaybackHTTPClient` (handshake misses then count as its misses), else none (record and proxy modes need a
 * `WebSocketRecorder` given explicitly, with its upstream settings).
 */
export function webSocketFor(
  exchanger: HttpExchanger,
  given: WebSocketExchanger | undefined,
): WebSocketExchanger | undefined {
  if (given) return given;
  return exchanger instanceof PlaybackHTTPClient
    ? new WebSocketPlayer(exchanger.archive, { misses: exchanger })
    : undefined;
}

function plainText(handshake: ClientHandshake, status: number, reason: string, text: string, code?: string): void {
  const headers: Array<[string, string]> = [['Content-Type', 'text/plain; charset=utf-8']];
  if (code) headers.push(['x-recall-error', code]);
  handshake.refuse(status, reason, headers, Buffer.from(`${text}\n`));
}

type WebSocketOptions = Omit<UpgradeHandlerOptions, 'handler'>;

/**
 * Names the host of a WebSocket handshake (Host or `:authority`, SNI, the address→name map, the connection's
 * original destination) and hands it to the exchanger in its HTTP/1.1 form; or refuses it (no name, a loop).
 */
async function openWebSocket(req: IncomingMessage, handshake: ClientHandshake, options: WebSocketOptions): Promise<void> {
  const { scheme, nameMap } = options;
  let host = hostOf(req, undefined, nameMap);
  if (!host && options.originalDestination) {
    const original = await options.originalDestination(req.socket);
    if (original) host = nameMap?.nameForAddress(original)?.toLowerCase() ?? original;
  }
  if (!host) return plainText(handshake, 400, 'Bad Request', 'Recall: the WebSocket handshake has no Host header and the connection gives no name');
  if (isSelf(host, scheme, req)) {
    return plainText(handshake, 508, 'Loop Detected', `Recall: ${host} is this Recall server itself; send requests for other hosts`, RECALL_ERROR_CODES.LOOP);
  }
  let headers = pairsOf(req.rawHeaders);
  if (handshake.httpVersion === '2.0') {
    // An extended CONNECT carries no Host, Upgrade or Connection: given them, it matches (and records) exactly like
    // the same handshake over HTTP/1.1, so an archive plays back to either transport.
    headers = [['Host', host], ['Upgrade', 'websocket'], ['Connection', 'Upgrade'], ...headers.filter(([name]) => !name.startsWith(':'))];
  }
  const method = handshake.httpVersion === '2.0' ? 'GET' : (req.method ?? 'GET');
  const request: RecordedRequest = { method, scheme, host, target: req.url ?? '/', httpVersion: handshake.httpVersion, headers, body: Buffer.alloc(0) };
  await options.webSocket.open(request, handshake);
}

/** The interceptors' HTTP/1.1 'upgrade' listener. */
export function createUpgradeHandler(
  options: UpgradeHandlerOptions,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { logger } = options;

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (!/^websocket$/i.test(req.headers.upgrade ?? '')) {
      // Not ours to switch to: answer the request itself, on this connection, and close it afterwards.
      if (head.length > 0) socket.unshift(head);
      const res = new http.ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as Socket);
      res.once('finish', () => socket.end());
      return options.handler(req, res);
    }
    socket.on('error', (error) => logger.debug({ err: error }, 'WebSocket client socket failed'));
    await openWebSocket(req, new UpgradeHandshake(req, socket, head), options);
  }

  return (req, socket, head) => {
    upgrade(req, socket, head).catch((error: unknown) => {
      logger.error({ err: error }, 'WebSocket upgrade failed');
      answerPlain(socket, 500, 'Internal Server Error', [], Buffer.from('Recall: internal error\n'));
    });
  };
}

/**
 * The HTTP/2 interceptor's 'connect' listener: a WebSocket over an extended CONNECT (RFC 8441, offered in the
 * session's SETTINGS when a WebSocket mode is set); any other CONNECT is refused (Recall is not a tunnel).
 */
export function createExtendedConnectHandler(options: WebSocketOptions): (req: Http2ServerRequest, res: Http2ServerResponse) => void {
  const { logger } = options;
  return (req, res) => {
    const handshake = new ExtendedConnectHandshake(res);
    if (req.headers[':protocol'] !== 'websocket') {
      return plainText(handshake, 405, 'Method Not Allowed', 'Recall: CONNECT is only for WebSocket (RFC 8441); Recall is not a tunnel');
    }
    res.stream.on('error', (error) => logger.debug({ err: error }, 'WebSocket client stream failed'));
    openWebSocket(req as unknown as IncomingMessage, handshake, options).catch((error: unknown) => {
      logger.error({ err: error }, 'WebSocket over HTTP/2 failed');
      handshake.refuse(500, 'Internal Server Error', [], Buffer.from('Recall: internal error\n'));
    });
  };
}
