// Real WebSocket fixtures: a `ws` origin (welcome frame, echo, a JSON subscription that ticks, binary echo
// reversed) on 127.0.0.1, plain or TLS, and a `ws` client that reaches a Recall server for any host name (Host
// header or SNI set by hand, as a redirect in a lab would), collecting what it receives.
import http from 'node:http';
import https from 'node:https';
import WebSocket, { WebSocketServer } from 'ws';

export interface WsOrigin {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** A `ws` origin; with `page`, plain requests for `/` get that HTML (others 404). */
export async function startWsOrigin(
  tlsOptions?: { key: string; cert: string },
  page?: string,
): Promise<WsOrigin> {
  const serve: http.RequestListener = (req, res) => {
    const found = page !== undefined && req.url === '/';
    res.writeHead(found ? 200 : 404, { 'content-type': found ? 'text/html; charset=utf-8' : 'text/plain' });
    res.end(found ? page : 'not here');
  };
  const server = tlsOptions ? https.createServer(tlsOptions, serve) : http.createServer(serve);
  const wss = new WebSocketServer({
    server,
    handleProtocols: (offered) => (offered.has('tick.v1') ? 'tick.v1' : false),
  });
  const origin: WsOrigin = {
    port: 0,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  wss.on('headers', (lines) => lines.push('X-Origin: ws-fixture'));
  wss.on('connection', (socket) => {
    origin.connections++;
    socket.send('welcome');
    socket.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      if (isBinary) return socket.send(Buffer.from(bytes).reverse(), { binary: true });
      const text = bytes.toString('utf8');
      if (text.startsWith('{')) {
        const request = JSON.parse(text) as { op: string; id: string };
        socket.send(JSON.stringify({ ok: true, op: request.op }));
        let tick = 0;
        const timer = setInterval(() => {
          socket.send(JSON.stringify({ tick: ++tick }));
          if (tick === 3) clearInterval(timer);
        }, 20);
        return;
      }
      socket.send(`echo:${text}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin.port = (server.address() as { port: number }).port;
  return origin;
}

export interface WsClientOptions {
  /** `ws://` or `wss://` URL as the client means it (host and port of the origin). */
  url: string;
  /** Port of the Recall server the connection really goes to. */
  recallPort: number;
  /** Root CA to trust for wss (Recall's). */
  ca?: string;
  protocols?: string[];
}

/** Connects through Recall: resolves once open, or rejects with the HTTP status of a refused handshake. */
export interface WsClient {
  socket: WebSocket;
  /** Frames received so far: text as strings, binary as Buffers. */
  received: Array<string | Buffer>;
  /** Headers of the 101 response. */
  headers: Record<string, string | string[] | undefined>;
}

export function connectThroughRecall(options: WsClientOptions): Promise<WsClient> {
  const url = new URL(options.url);
  const secure = url.protocol === 'wss:';
  const received: Array<string | Buffer> = [];
  const socket = new WebSocket(
    `${url.protocol}//127.0.0.1:${options.recallPort}${url.pathname}${url.search}`,
    options.protocols ?? [],
    {
      headers: { Host: url.host },
      ...(secure ? { servername: url.hostname, ca: options.ca } : {}),
    } as WebSocket.ClientOptions,
  );
  socket.on('message', (data, isBinary) => {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
    received.push(isBinary ? bytes : bytes.toString('utf8'));
  });
  let headers: WsClient['headers'] = {};
  socket.once('upgrade', (res) => (headers = res.headers));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, received, headers }));
    socket.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        reject(
          Object.assign(new Error(`handshake answered ${res.statusCode}`), {
            status: res.statusCode,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        ),
      );
    });
    socket.once('error', reject);
  });
}

/** Waits until `check` holds, polling every 10 ms, for at most `ms`. */
export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Closes the client and waits for the close handshake to finish. */
export async function closeClient(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.close(1000, 'done');
  });
}
