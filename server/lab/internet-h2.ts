/**
 * The lab internet's HTTP/2 site, `h2.lab.test`: the only site (with grpc.lab.test) whose server offers h2, so a
 * recording holds both protocols and playback must answer each host in the one it was recorded in. Its page loads
 * six subresources from the same host (multiplexed on one connection), `/trailers` ends with response trailers, and
 * `/ticker` is the ticker page (internet-websocket.ts), whose WebSocket a browser opens on the same h2 connection.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const H2_HOST = 'h2.lab.test';

const TILE_COUNT = 4;

function tile(index: number): string {
  const hue = (index * 83) % 360;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"><rect width="24" height="24" fill="hsl(${hue},60%,45%)"/><text x="7" y="17" fill="white">${index}</text></svg>\n`;
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>HTTP/2 site</title><link rel="stylesheet" href="/style.css"><script src="/app.js" defer></script></head>
<body><h1>HTTP/2 site</h1><p id="app"></p><p id="served"></p>${Array.from({ length: TILE_COUNT }, (_, i) => `<img src="/tile/${i}.svg" alt="tile ${i}">`).join('')}</body></html>
`;

const APP = `document.getElementById('app').textContent = 'h2 app.js ran';
fetch('/served').then((r) => r.text()).then((text) => { document.getElementById('served').textContent = text; });
`;

const TRAILER_BODY = Array.from({ length: 64 }, (_, i) => `line ${i} of a body that ends with trailers\n`).join('');

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) });
  response.end(body);
}

/** Answers one request for h2.lab.test (over h2, or over HTTP/1.1 for a client that offers only that). */
export function handleH2Site(request: IncomingMessage, response: ServerResponse, url: URL): void {
  const tileMatch = /^\/tile\/(\d+)\.svg$/.exec(url.pathname);
  if (tileMatch && Number(tileMatch[1]) < TILE_COUNT) return send(response, 200, 'image/svg+xml', tile(Number(tileMatch[1])));
  switch (url.pathname) {
    case '/':
      return send(response, 200, 'text/html; charset=utf-8', PAGE);
    case '/style.css':
      return send(response, 200, 'text/css', 'body { font-family: sans-serif; }\nimg { margin: 2px; }\n');
    case '/app.js':
      return send(response, 200, 'text/javascript', APP);
    case '/served':
      // What the origin saw: the page shows it, so a replay proves the recorded answer (not a live one) came back.
      return send(response, 200, 'text/plain; charset=utf-8', `served over HTTP/${request.httpVersion}`);
    case '/trailers': {
      // Trailers need a body without a length (chunked over HTTP/1.1; over h2 they follow the DATA frames).
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', trailer: 'x-body-sha256' });
      response.write(TRAILER_BODY);
      response.addTrailers({ 'x-body-sha256': createHash('sha256').update(TRAILER_BODY).digest('hex') });
      return void response.end();
    }
    default:
      return send(response, 404, 'text/plain', `no ${url.pathname} on ${H2_HOST}\n`);
  }
}
