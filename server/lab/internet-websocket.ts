/**
 * The lab internet's WebSocket site, `ticker.lab.test` (`ws://` and `wss://`, path `/feed`; also on h2.lab.test,
 * where browsers open it over HTTP/2 with an extended CONNECT, RFC 8441): what Recall must record and replay of a
 * live page. A connection is greeted with `welcome`; a text frame comes back as
 * `echo:<text>`; a JSON frame `{"op":"sub",...}` is answered `{"ok":true,"op":"sub"}` followed by three ticks
 * (`{"tick":1}`… 100 ms apart); a binary frame comes back reversed. The page at `/` runs that conversation.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ExtendedConnectHandshake } from '../../lib/recall/websocket/client-handshake.js';
import { H2_HOST } from './internet-h2.js';

export const TICKER_HOST = 'ticker.lab.test';
/** Hosts that serve the feed. */
const FEED_HOSTS = new Set([TICKER_HOST, H2_HOST]);

/** The ticker's side of one connection. */
function converse(socket: WebSocket): void {
  socket.send('welcome');
  socket.on('message', (data, isBinary) => {
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    if (isBinary) return socket.send(Buffer.from(bytes).reverse(), { binary: true });
    const text = bytes.toString('utf8');
    let request: { op?: unknown } | undefined;
    try {
      request = JSON.parse(text) as { op?: unknown };
    } catch {
      request = undefined;
    }
    if (typeof request !== 'object' || request === null) return socket.send(`echo:${text}`);
    socket.send(JSON.stringify({ ok: true, op: request.op }));
    let tick = 0;
    const timer = setInterval(() => {
      if (socket.readyState !== socket.OPEN || ++tick > 3) return clearInterval(timer);
      socket.send(JSON.stringify({ tick }));
    }, 100);
  });
  socket.on('error', () => socket.terminate());
}

/** Answers WebSocket upgrades on `server` (the internet's HTTP or HTTPS server): the ticker, 404 anything else. */
export function attachTickerSite(server: Server): void {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (!FEED_HOSTS.has(host) || !(request.url ?? '').startsWith('/feed')) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, converse);
  });
}

/** Answers extended CONNECTs for the feed on the internet's h2 server (which announces them in its SETTINGS). */
export function attachTickerOverH2(server: Http2Server): void {
  server.on('connect', (request, response) => {
    const handshake = new ExtendedConnectHandshake(response);
    const host = String(request.headers[':authority'] ?? '').replace(/:\d+$/, '').toLowerCase();
    if (request.headers[':protocol'] !== 'websocket' || !FEED_HOSTS.has(host) || !request.url.startsWith('/feed')) {
      return handshake.refuse(404, 'Not Found', [], Buffer.alloc(0));
    }
    handshake.accept(false, []).then(converse, () => undefined);
  });
}

/** The page at `https://ticker.lab.test/`: talks to the feed and shows each frame; `#state` says when it is done. */
export const TICKER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Ticker</title></head><body><ul id="log"></ul><p id="state">waiting</p><script>
const log = (text) => { const li = document.createElement('li'); li.textContent = text; document.getElementById('log').appendChild(li); };
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/feed');
ws.binaryType = 'arraybuffer';
let count = 0;
ws.onmessage = (event) => {
  count++;
  log(typeof event.data === 'string' ? event.data : 'bytes:' + Array.from(new Uint8Array(event.data)).join(','));
  if (event.data === 'welcome') ws.send('hi');
  else if (event.data === 'echo:hi') ws.send(new Uint8Array([1, 2, 3]));
  else if (typeof event.data !== 'string') ws.send(JSON.stringify({ op: 'sub' }));
  if (count === 7) { document.getElementById('state').textContent = 'done'; ws.close(1000); }
};
ws.onerror = () => { document.getElementById('state').textContent = 'error'; };
</script></body></html>
`;
