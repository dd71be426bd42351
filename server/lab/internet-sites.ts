/**
 * The origin sites of the lab's internet: one request handler that dispatches on the Host header. Between them
 * they cover what Recall must record and play back: a page with subresources, scripts that read the clock and
 * Math.random, redirects, gzip and chunked bodies, a JSON API with POST, a large download, cookies, and two names
 * served from one address.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { handleH2Site, H2_HOST } from './internet-h2.js';
import { TICKER_PAGE } from './internet-websocket.js';

/** Size of download.lab.test/large.bin: big enough to stream in many chunks. */
export const LARGE_DOWNLOAD_BYTES = 8 * 1024 * 1024;

type Handler = (request: IncomingMessage, response: ServerResponse, body: Buffer, url: URL) => void;

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': type,
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  response.end(body);
}

function page(title: string, head: string, body: string): string {
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title>${head}</head><body>${body}</body></html>\n`;
}

/** Deterministic bytes, so a download can be checked against `x-content-sha256` after a round trip. */
function largeBody(): Buffer {
  const body = Buffer.alloc(LARGE_DOWNLOAD_BYTES);
  for (let i = 0; i < body.length; i += 1) body[i] = (i * 31 + (i >> 13)) & 0xff;
  return body;
}
let large: { body: Buffer; sha256: string } | undefined;

const staticSite: Handler = (_request, response, _body, url) => {
  switch (url.pathname) {
    case '/':
      return send(
        response,
        200,
        'text/html; charset=utf-8',
        page(
          'Static site',
          '<link rel="stylesheet" href="/style.css"><script src="/app.js" defer></script>',
          '<h1 id="title">Static site</h1><img src="/logo.svg" alt="logo"><p id="app"></p>',
        ),
      );
    case '/style.css':
      return send(response, 200, 'text/css', 'body { font-family: sans-serif; }\nh1 { color: #225; }\n', {
        'cache-control': 'max-age=3600',
      });
    case '/app.js':
      return send(
        response,
        200,
        'text/javascript',
        "document.getElementById('app').textContent = 'app.js ran';\n",
      );
    case '/logo.svg':
      return send(
        response,
        200,
        'image/svg+xml',
        '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" fill="#225"/></svg>\n',
      );
    default:
      return send(response, 404, 'text/plain', `no ${url.pathname} on static.lab.test\n`);
  }
};

const dynamicSite: Handler = (_request, response, _body, url) => {
  if (url.pathname === '/clock.js') {
    return send(
      response,
      200,
      'text/javascript',
      "document.getElementById('clock').textContent = String(Date.now()) + ' ' + new Date().toISOString();\ndocument.getElementById('random').textContent = String(Math.random());\n",
    );
  }
  if (url.pathname !== '/')
    return send(response, 404, 'text/plain', `no ${url.pathname} on dynamic.lab.test\n`);
  return send(
    response,
    200,
    'text/html; charset=utf-8',
    page(
      'Dynamic site',
      '<script src="/clock.js" defer></script>',
      '<p>now: <span id="clock"></span></p><p>random: <span id="random"></span></p><script>document.title = "Dynamic " + Math.floor(Math.random() * 1e6);</script>',
    ),
    { 'cache-control': 'no-store' },
  );
};

const redirectSite: Handler = (_request, response, _body, url) => {
  const to = (status: number, location: string): void =>
    send(response, status, 'text/plain', `see ${location}\n`, { location });
  switch (url.pathname) {
    case '/':
      return to(302, `${url.protocol}//redirect.lab.test/final`);
    case '/permanent':
      return to(301, '/final');
    case '/elsewhere':
      return to(302, `${url.protocol}//static.lab.test/`);
    case '/final':
      return send(
        response,
        200,
        'text/html; charset=utf-8',
        page('Redirected', '', '<p id="final">after the redirect</p>'),
      );
    default:
      return send(response, 404, 'text/plain', `no ${url.pathname} on redirect.lab.test\n`);
  }
};

const ENCODING_TEXT = Array.from(
  { length: 200 },
  (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`,
).join('');

const encodingSite: Handler = (_request, response, _body, url) => {
  switch (url.pathname) {
    case '/gzip':
      return send(response, 200, 'text/plain; charset=utf-8', gzipSync(ENCODING_TEXT), {
        'content-encoding': 'gzip',
        vary: 'accept-encoding',
      });
    case '/chunked': {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }); // no length: chunked
      const lines = ENCODING_TEXT.split(/(?<=\n)/);
      let index = 0;
      const next = (): void => {
        if (index >= lines.length) return void response.end();
        response.write(lines.slice(index, index + 20).join(''));
        index += 20;
        setImmediate(next);
      };
      return next();
    }
    case '/gzip-chunked': {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip' });
      const zipped = gzipSync(ENCODING_TEXT);
      response.write(zipped.subarray(0, 100));
      return void setImmediate(() => response.end(zipped.subarray(100)));
    }
    default:
      return send(response, 404, 'text/plain', `no ${url.pathname} on encoding.lab.test\n`);
  }
};

const apiSite: Handler = (request, response, body, url) => {
  const json = (status: number, value: unknown): void =>
    send(response, status, 'application/json', `${JSON.stringify(value)}\n`);
  if (url.pathname === '/items' && request.method === 'GET')
    return json(200, {
      items: [
        { id: 1, name: 'first' },
        { id: 2, name: 'second' },
      ],
    });
  if ((url.pathname === '/items' || url.pathname === '/echo') && request.method === 'POST') {
    let parsed: unknown;
    try {
      parsed = body.length ? JSON.parse(body.toString('utf8')) : null;
    } catch {
      return json(400, { error: 'the body is not JSON', received: body.toString('utf8').slice(0, 200) });
    }
    const id = createHash('sha256').update(body).digest('hex').slice(0, 12);
    return json(url.pathname === '/items' ? 201 : 200, {
      id,
      method: request.method,
      contentType: request.headers['content-type'] ?? null,
      body: parsed,
    });
  }
  return json(404, { error: `no ${request.method} ${url.pathname} on api.lab.test` });
};

const downloadSite: Handler = (_request, response, _body, url) => {
  if (url.pathname !== '/large.bin')
    return send(response, 404, 'text/plain', `no ${url.pathname} on download.lab.test\n`);
  if (!large) {
    const body = largeBody();
    large = { body, sha256: createHash('sha256').update(body).digest('hex') };
  }
  send(response, 200, 'application/octet-stream', large.body, { 'x-content-sha256': large.sha256 });
};

const cookieSite: Handler = (request, response, _body, url) => {
  const cookies = Object.fromEntries(
    (request.headers.cookie ?? '')
      .split(';')
      .map((part) => part.trim().split('='))
      .filter((kv) => kv[0])
      .map(([k, ...v]) => [k, v.join('=')]),
  );
  if (url.pathname === '/set') {
    const secure = url.protocol === 'https:' ? '; Secure' : '';
    response.setHeader('set-cookie', [
      'session=lab-session-1; Path=/; HttpOnly',
      `theme=dark; Path=/; SameSite=Lax${secure}`,
    ]);
    return send(response, 200, 'application/json', `${JSON.stringify({ set: ['session', 'theme'] })}\n`);
  }
  if (url.pathname === '/')
    return send(response, 200, 'application/json', `${JSON.stringify({ cookies })}\n`);
  return send(response, 404, 'text/plain', `no ${url.pathname} on cookies.lab.test\n`);
};

const sharedSite =
  (name: string): Handler =>
  (_request, response, _body, url) =>
    send(
      response,
      200,
      'text/html; charset=utf-8',
      page(name, '', `<p id="site">${name}</p><p id="path">${url.pathname}</p>`),
    );

const HANDLERS: Record<string, Handler> = {
  'static.lab.test': staticSite,
  'dynamic.lab.test': dynamicSite,
  'redirect.lab.test': redirectSite,
  'encoding.lab.test': encodingSite,
  'api.lab.test': apiSite,
  'download.lab.test': downloadSite,
  'cookies.lab.test': cookieSite,
  'ticker.lab.test': (_request, response) => send(response, 200, 'text/html; charset=utf-8', TICKER_PAGE),
  [H2_HOST]: (request, response, _body, url) =>
    url.pathname === '/ticker'
      ? send(response, 200, 'text/html; charset=utf-8', TICKER_PAGE)
      : handleH2Site(request, response, url),
  'grpc.lab.test': (_request, response) =>
    send(response, 415, 'text/plain', 'grpc.lab.test speaks gRPC over HTTP/2 only (see docs/lab.md)\n'),
  'shared-a.lab.test': sharedSite('shared-a.lab.test'),
  'shared-b.lab.test': sharedSite('shared-b.lab.test'),
};

/**
 * Handles one request for any site, over HTTP/1.1 or (through Node's compatibility API) HTTP/2, where the name is in
 * `:authority`; an unknown name gets 421 Misdirected Request.
 */
export function handleSiteRequest(request: IncomingMessage, response: ServerResponse, secure: boolean): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const authority = request.headers.host ?? (request.headers[':authority'] as string | undefined) ?? '';
    const host = authority.replace(/:\d+$/, '').toLowerCase();
    const url = new URL(request.url ?? '/', `${secure ? 'https' : 'http'}://${host || 'unknown'}`);
    const handler = HANDLERS[host];
    if (!handler) return send(response, 421, 'text/plain', `this server has no site named "${host}"\n`);
    handler(request, response, Buffer.concat(chunks), url);
  });
}
