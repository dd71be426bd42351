/**
 * The lab internet's WebSocket site, `ticker.lab.test` (`ws://` and `wss://`, path `/feed`): what Recall must
 * record and replay of a live page. A connection is greeted with `welcome`; a text frame comes back as
 * `echo:<text>`; a JSON frame `{"op":"sub",...}` is answered `{"ok":true,"op":"sub"}` followed by three ticks
 * (`{"tick":1}`… 100 ms apart); a binary frame comes back reversed. The page at `/` runs that conversation.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export const TICKER_HOST = 'ticker.lab.test';

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
    if (host !== TICKER_HOST || !(request.url ?? '').startsWith('/feed')) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, converse);
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
