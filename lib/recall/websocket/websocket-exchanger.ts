/**
 * The one interface both WebSocket modes implement (`WebSocketRecorder`, `WebSocketPlayer`): the interceptors hand
 * each WebSocket handshake to it (an HTTP/1.1 Upgrade or an HTTP/2 extended CONNECT, client-handshake.ts), and it
 * owns the connection from then on.
 */
import type { Duplex } from 'node:stream';
import type { ClientHandshake } from './client-handshake.js';
import type { RawHeaders, RecordedRequest } from '../archive/archive-types.js';
import { withoutHopByHop } from '../http/http-headers.js';

export interface WebSocketExchanger {
  /**
   * Takes over one handshake: answers it (the WebSocket, or an HTTP error) and runs the connection. `request` is in
   * its HTTP/1.1 form whatever the transport (GET, with the client's headers), so archives do not depend on it.
   * Never throws.
   */
  open(request: RecordedRequest, handshake: ClientHandshake): Promise<void>;
  /** Closes every connection it runs. Idempotent. */
  close(): Promise<void>;
}

/** Response headers the WebSocket library writes itself on a 101: recorded copies of them are not repeated. */
const OWN_HANDSHAKE_HEADERS = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'date',
]);

/** Recorded 101 headers worth passing on (a cookie, a server name), as `Name: value` lines for `ws`'s 'headers'. */
export function extraHandshakeLines(headers: RawHeaders): string[] {
  return withoutHopByHop(headers)
    .filter(([name]) => !OWN_HANDSHAKE_HEADERS.has(name.toLowerCase()) && !name.startsWith(':'))
    .map(([name, value]) => `${name}: ${value}`);
}

/** Answers an upgrade with a plain HTTP response and closes the socket (a handshake miss, a refused upstream). */
export function answerPlain(
  socket: Duplex,
  status: number,
  statusText: string,
  headers: RawHeaders,
  body: Buffer,
): void {
  if (!socket.writable) return void socket.destroy();
  const clean = (text: string): string => text.replace(/[^\t\x20-\x7e]/g, '');
  const lines = headers
    .filter(([name]) => !['connection', 'content-length', 'transfer-encoding'].includes(name.toLowerCase()))
    .map(([name, value]) => `${clean(name)}: ${clean(value)}\r\n`)
    .join('');
  socket.end(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 ${status} ${clean(statusText)}\r\n${lines}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      ),
      body,
    ]),
  );
}
