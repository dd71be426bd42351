// Real HTTP/2 fixtures: an h2-only origin (node:http2 secure server) on 127.0.0.1, curl reporting the protocol it
// got, nghttp, and a Node http2 client that dials our interceptor for any host name (like a REDIRECT rule).
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import { loopbackLookup } from './http-fixtures.js';

export interface H2Origin {
  port: number;
  streams: number;
  close(): Promise<void>;
}

/** An HTTP/2-only origin (no HTTP/1.1 fallback) on 127.0.0.1:0. */
export async function startH2Origin(
  tlsOptions: { key: string; cert: string },
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
): Promise<H2Origin> {
  const server = http2.createSecureServer({ ...tlsOptions, allowHTTP1: false });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const origin: H2Origin = {
    port: 0,
    streams: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
  server.on('stream', (stream, headers) => {
    origin.streams++;
    onStream(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin.port = (server.address() as { port: number }).port;
  return origin;
}

export interface CurlH2Result {
  /** `2` or `1.1`: the protocol curl spoke (its own %{http_version}). */
  version: string;
  status: number;
  body: Buffer;
}

/** curl with `protocol` (`--http2` or `--http1.1`), connecting to 127.0.0.1:`port` whatever the URL names. */
export function curlProtocol(url: string, port: number, protocol: string, caFile: string, extra: string[] = []): Promise<CurlH2Result> {
  const u = new URL(url);
  const args = ['-sS', '--max-time', '30', protocol, '--cacert', caFile, '--connect-to', `${u.hostname}:${u.port || 443}:127.0.0.1:${port}`,
    '-o', '-', '-w', '\n%{http_version} %{http_code}', ...extra, url];
  return new Promise((resolve, reject) =>
    execFile('curl', args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (error, out, stderr) => {
      if (error) return reject(new Error(`curl ${args.join(' ')}: ${stderr.toString()}`));
      const cut = out.lastIndexOf(0x0a);
      const [version = '', status = ''] = out.subarray(cut + 1).toString().split(' ');
      resolve({ version, status: Number(status), body: out.subarray(0, cut) });
    }),
  );
}

/** nghttp (nghttp2-client) fetching `url` through 127.0.0.1:`port`; its stdout (the body) and the frames it logged. */
export function nghttp(url: string, port: number, extra: string[] = []): Promise<{ body: string; log: string }> {
  const u = new URL(url);
  // nghttp has no --connect-to: it dials the URL's host, so the URL names 127.0.0.1 and the authority and SNI are
  // given apart (-H :authority; SNI follows the authority's host in nghttp 1.52).
  const direct = `https://127.0.0.1:${port}${u.pathname}${u.search}`;
  const args = ['-v', '--no-verify-peer', '-H', `:authority: ${u.host}`, ...extra, direct];
  return new Promise((resolve, reject) =>
    execFile('nghttp', args, { maxBuffer: 16 * 1024 * 1024, timeout: 30_000 }, (error, out) => {
      if (error) return reject(new Error(`nghttp ${args.join(' ')}: ${error.message}`));
      const lines = out.split('\n');
      resolve({ body: lines.filter((l) => !/^\[ *\d+\.\d+\]|^ {10}/.test(l)).join('\n'), log: out });
    }),
  );
}

export interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | undefined;
  body: Buffer;
}

/** One request on a Node http2 session (`session` dialled at our interceptor with the host's SNI). */
export function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: !body });
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    stream.on('response', (h) => (head = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, trailers, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (body) stream.end(body);
  });
}

/** A Node http2 client session to 127.0.0.1:`port` presenting `host` as SNI and trusting `ca`. */
export function h2Session(host: string, port: number, ca: string): http2.ClientHttp2Session {
  return http2.connect(`https://${host}:${port}`, { ca, servername: host, host: '127.0.0.1', lookup: loopbackLookup } as http2.SecureClientSessionOptions);
}
