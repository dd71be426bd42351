/**
 * The interceptors' 'upgrade' listener. A WebSocket upgrade is named like any request (Host, SNI, the address→name
 * map or the connection's original destination) and handed to the `WebSocketExchanger`; any other upgrade (curl's
 * `Upgrade: h2c`) is answered as the plain HTTP request it also is, by the ordinary request handler, without
 * switching protocols.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { RecordedRequest } from '../archive/archive-types.js';
import type { HttpExchanger } from '../http/http-exchanger.js';
import { pairsOf } from '../http/http-headers.js';
import { PlaybackHTTPClient } from '../http/playback-http-client.js';
import { hostOf, isSelf, type NameForAddress, type OriginalDestination } from '../http/request-handler.js';
import { RECALL_ERROR_CODES } from '../errors.js';
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

function plainText(socket: Duplex, status: number, reason: string, text: string, code?: string): void {
  const headers: Array<[string, string]> = [['Content-Type', 'text/plain; charset=utf-8']];
  if (code) headers.push(['x-recall-error', code]);
  answerPlain(socket, status, reason, headers, Buffer.from(`${text}\n`));
}

export function createUpgradeHandler(
  options: UpgradeHandlerOptions,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { webSocket, scheme, nameMap, logger } = options;

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
    let host = hostOf(req, undefined, nameMap);
    if (!host && options.originalDestination) {
      const original = await options.originalDestination(req.socket);
      if (original) host = nameMap?.nameForAddress(original)?.toLowerCase() ?? original;
    }
    if (!host)
      return plainText(
        socket,
        400,
        'Bad Request',
        'Recall: the WebSocket handshake has no Host header and the connection gives no name',
      );
    if (isSelf(host, scheme, req))
      return plainText(
        socket,
        508,
        'Loop Detected',
        `Recall: ${host} is this Recall server itself; send requests for other hosts`,
        RECALL_ERROR_CODES.LOOP,
      );
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      scheme,
      host,
      target: req.url ?? '/',
      httpVersion: req.httpVersion,
      headers: pairsOf(req.rawHeaders),
      body: Buffer.alloc(0),
    };
    await webSocket.open(request, req, socket, head);
  }

  return (req, socket, head) => {
    upgrade(req, socket, head).catch((error: unknown) => {
      logger.error({ err: error }, 'WebSocket upgrade failed');
      plainText(socket, 500, 'Internal Server Error', 'Recall: internal error');
    });
  };
}
