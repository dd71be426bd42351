/**
 * A small devserver: serves a repository folder over HTTP (GET and HEAD) for devices to fetch packages from.
 * Paths are decoded, normalised and resolved (symbolic links included) and must stay inside the folder.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join, sep } from 'node:path';
import { silentLogger, type Logger } from '../logging.js';

export interface PackageServerOptions {
  /** The repository folder. */
  dir: string;
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  logger?: Logger;
}

export interface PackageServer {
  /** `http://host:port`, the repository URL to give devices. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function servePackages(options: PackageServerOptions): Promise<PackageServer> {
  const logger = (options.logger ?? silentLogger).child({ component: 'package-server' });
  const root = await realpath(options.dir);
  const server = createServer((request, response) => {
    handle(root, request, response).catch((error: unknown) => {
      logger.error({ err: error, url: request.url }, 'request failed');
      if (!response.headersSent) reply(response, 500, 'internal error\n');
      else response.destroy();
    });
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  logger.info({ dir: root, port: address.port }, 'serving packages');
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  return { url: `http://${host}:${address.port}`, port: address.port, close, [Symbol.asyncDispose]: close };
}

async function handle(root: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return reply(response, 405, 'only GET and HEAD\n');
  let path: string;
  try {
    path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
  } catch {
    return reply(response, 400, 'bad path\n'); // malformed percent-encoding
  }
  if (path.includes('\0') || path.split('/').includes('..'))
    return reply(response, 403, 'path outside the repository\n');
  const full = await realpath(join(root, path)).catch(() => undefined);
  if (!full || (full !== root && !full.startsWith(root + sep))) return reply(response, 404, 'not found\n');
  const info = await stat(full);
  if (info.isDirectory()) {
    // A plain listing: autotest's HTTP "quick test" fetched the repository URL itself.
    const names = (await readdir(full)).filter((n) => !n.startsWith('.')).sort();
    return reply(response, 200, names.map((n) => `${n}\n`).join(''), request.method === 'HEAD');
  }
  const type = full.endsWith('.bz2') ? 'application/x-bzip2' : 'text/plain; charset=utf-8';
  response.writeHead(200, { 'content-type': type, 'content-length': info.size });
  if (request.method === 'HEAD') return void response.end();
  const stream = createReadStream(full);
  stream.on('error', () => response.destroy()); // the file vanished or could not be read: cut the answer short
  stream.pipe(response);
}

function reply(response: ServerResponse, status: number, body: string, headOnly = false): void {
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(headOnly ? undefined : body);
}
