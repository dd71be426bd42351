/**
 * The client's side of opening a WebSocket, whichever way it came: an HTTP/1.1 Upgrade (answered `101` on the
 * socket) or an HTTP/2 extended CONNECT (RFC 8441, answered `200` on the stream; Chromium uses it whenever the
 * server's SETTINGS allow it). The WebSocket modes answer through this and then speak frames over the WebSocket it
 * gives, so recording and playback are the same for both transports.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerResponse, OutgoingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { RawHeaders } from '../archive/archive-types.js';
import { answerPlain, extraHandshakeLines } from './websocket-exchanger.js';

/** Largest message accepted from the client, as from the origin. */
export const MAX_PAYLOAD = 64 * 1024 * 1024;

export interface ClientHandshake {
  /** `1.1` (Upgrade) or `2.0` (extended CONNECT). */
  readonly httpVersion: string;
  /**
   * Completes the handshake with the subprotocol `protocol` (false: none) and the recorded response headers worth
   * passing on; resolves to the client's WebSocket, or rejects when the client went away or its handshake was
   * invalid (it has then been answered and closed).
   */
  accept(protocol: string | false, headers: RawHeaders): Promise<WebSocket>;
  /** Answers with a plain HTTP response instead (a miss, a refused upstream) and closes. */
  refuse(status: number, statusText: string, headers: RawHeaders, body: Buffer): void;
}

/** HTTP/1.1: `ws` checks the request and writes the 101 itself. */
export class UpgradeHandshake implements ClientHandshake {
  readonly httpVersion = '1.1';

  constructor(
    private readonly req: IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
  ) {}

  accept(protocol: string | false, headers: RawHeaders): Promise<WebSocket> {
    const server = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: MAX_PAYLOAD,
      handleProtocols: () => protocol,
    });
    server.on('headers', (lines) => lines.push(...extraHandshakeLines(headers)));
    return new Promise((resolve, reject) => {
      // An invalid handshake is answered (400) by ws and the callback never runs: the close settles it.
      const gone = (): void => reject(new Error('the client closed before the WebSocket handshake completed'));
      this.socket.once('close', gone);
      server.handleUpgrade(this.req, this.socket, this.head, (client) => {
        this.socket.off('close', gone);
        resolve(client);
      });
    });
  }

  refuse(status: number, statusText: string, headers: RawHeaders, body: Buffer): void {
    answerPlain(this.socket, status, statusText, headers, body);
  }
}

/** HTTP/2 extended CONNECT (RFC 8441): a 200 opens the stream, which then carries the frames. */
export class ExtendedConnectHandshake implements ClientHandshake {
  readonly httpVersion = '2.0';

  constructor(private readonly res: Http2ServerResponse) {}

  accept(protocol: string | false, headers: RawHeaders): Promise<WebSocket> {
    const stream = this.res.stream;
    if (stream.destroyed || stream.closed) {
      return Promise.reject(new Error('the client closed before the WebSocket handshake completed'));
    }
    const passed = extraHandshakeLines(headers).map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    stream.respond({ ...h2Headers(passed), ':status': 200, ...(protocol ? { 'sec-websocket-protocol': protocol } : {}) });
    // `ws` runs a server-side WebSocket over any Duplex (its setSocket is how its own server completes an
    // upgrade): the h2 stream is that Duplex here.
    const client = new WebSocket(null as unknown as string, undefined, { autoPong: true }) as WebSocket & {
      _protocol: string;
      setSocket(socket: Duplex, head: Buffer, options: { maxPayload: number; skipUTF8Validation: boolean; allowSynchronousEvents: boolean }): void;
    };
    if (protocol) client._protocol = protocol;
    client.setSocket(stream, Buffer.alloc(0), { maxPayload: MAX_PAYLOAD, skipUTF8Validation: false, allowSynchronousEvents: true });
    return Promise.resolve(client);
  }

  refuse(status: number, _statusText: string, headers: RawHeaders, body: Buffer): void {
    const { res } = this;
    if (res.headersSent || res.stream.destroyed) return void res.stream.destroy();
    res.writeHead(status, h2Headers(headers));
    res.end(body);
  }
}

/** HTTP/1.1 header pairs as HTTP/2 headers: names lower-cased, repeats as lists, connection-specific ones dropped. */
function h2Headers(pairs: RawHeaders): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (const [raw, value] of pairs) {
    const name = raw.toLowerCase();
    if (name.startsWith(':') || CONNECTION_SPECIFIC.has(name)) continue;
    const before = out[name];
    out[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  return out;
}

const CONNECTION_SPECIFIC = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'proxy-connection', 'te']);
