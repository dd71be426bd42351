/**
 * Converts between the in-memory exchange and its HAR 1.2 entry. Bodies stay byte-exact: a request body is stored
 * as text when it is valid UTF-8 and carries no Content-Encoding, otherwise as base64; response bodies are stored
 * decoded with the wire bytes beside them (har-content.ts). Entries written by other tools are read leniently.
 */
import { isUtf8 } from 'node:buffer';
import type { HarEntry, HarNameValue, RawHeaders, RecordedExchange } from './archive-types.js';
import { bodyFromContent, contentOf, type LooseContent } from './har-content.js';
import { requestCookies, responseCookies } from './har-cookies.js';
import { grpcCallOf, grpcEventsOf } from '../grpc/grpc-call-record.js';

function headerValue(headers: RawHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}

function toHarHeaders(headers: RawHeaders): HarNameValue[] {
  return headers.map(([name, value]) => ({ name, value }));
}

function fromHarHeaders(headers: HarNameValue[]): RawHeaders {
  return headers.map(({ name, value }) => [name, value]);
}

function queryOf(target: string): HarNameValue[] {
  const at = target.indexOf('?');
  if (at < 0) return [];
  return [...new URLSearchParams(target.slice(at + 1))].map(([name, value]) => ({ name, value }));
}

/** True when the body can be stored as readable text without changing a byte. */
export function storableAsText(body: Buffer, headers: RawHeaders): boolean {
  const encoding = headerValue(headers, 'content-encoding');
  if (encoding !== undefined && encoding.trim() !== '' && encoding.trim().toLowerCase() !== 'identity')
    return false;
  return isUtf8(body);
}

/** The URL of a request in the archive: scheme, the host as the client named it, and the raw target. */
export function urlOf(request: { scheme: string; host: string; target: string }): string {
  return `${request.scheme}://${request.host}${request.target}`;
}

const URL_PATTERN = /^(https?|wss?):\/\/([^/?#]*)([/?][^]*)?$/;

/**
 * Splits an archive URL back into scheme, host and target; undefined when it is not `http(s)://host/...`. A
 * WebSocket URL (`ws://`, `wss://`, as Chrome names its WebSocket entries) gives the scheme its handshake used.
 */
export function splitUrl(
  url: string,
): { scheme: 'http' | 'https'; host: string; target: string } | undefined {
  const match = URL_PATTERN.exec(url);
  if (!match) return undefined;
  const scheme = match[1] === 'ws' ? 'http' : match[1] === 'wss' ? 'https' : (match[1] as 'http' | 'https');
  return { scheme, host: match[2] ?? '', target: match[3] ?? '/' };
}

export function exchangeToHarEntry(exchange: RecordedExchange): HarEntry {
  const { request, response } = exchange;
  const entry: HarEntry = {
    startedDateTime: exchange.startedDateTime,
    time: exchange.timeMs,
    request: {
      method: request.method,
      // A WebSocket entry is named by its ws:// or wss:// URL, as Chrome's export has it.
      url: exchange.webSocketMessages ? urlOf(request).replace(/^http/, 'ws') : urlOf(request),
      httpVersion: `HTTP/${request.httpVersion}`,
      cookies: requestCookies(request.headers),
      headers: toHarHeaders(request.headers),
      queryString: queryOf(request.target),
      headersSize: -1,
      bodySize: request.body.length,
    },
    response: {
      status: response.status,
      statusText: response.statusText,
      httpVersion: `HTTP/${response.httpVersion}`,
      cookies: responseCookies(response.headers),
      headers: toHarHeaders(response.headers),
      content: contentOf(response),
      ...(response.trailers ? { _recall: { trailers: toHarHeaders(response.trailers) } } : {}),
      redirectURL: headerValue(response.headers, 'location') ?? '',
      headersSize: -1,
      bodySize: response.body.length,
    },
    cache: {},
    timings: { send: 0, wait: exchange.timeMs, receive: 0 },
  };
  if (request.body.length > 0) {
    const mimeType = headerValue(request.headers, 'content-type') ?? 'application/octet-stream';
    entry.request.postData = storableAsText(request.body, request.headers)
      ? { mimeType, params: [], text: request.body.toString('utf8') }
      : { mimeType, params: [], text: request.body.toString('base64'), _encoding: 'base64' };
  }
  const grpc = grpcCallOf(exchange);
  if (grpc) entry._recall = { grpc };
  if (exchange.webSocketMessages) {
    entry._resourceType = 'websocket';
    entry._webSocketMessages = exchange.webSocketMessages;
  }
  return entry;
}

function versionOf(harVersion: string): string {
  return harVersion.replace(/^HTTP\//i, '') || '1.1';
}

/** A request body from `postData`: its text, else (HAR 1.2 allows `params` alone) a form rebuilt from `params`. */
function postBody(post: HarEntry['request']['postData']): Buffer {
  if (!post) return Buffer.alloc(0);
  if (typeof post.text === 'string')
    return Buffer.from(post.text, post._encoding === 'base64' ? 'base64' : 'utf8');
  if (!Array.isArray(post.params) || !/x-www-form-urlencoded/i.test(post.mimeType ?? ''))
    return Buffer.alloc(0);
  return Buffer.from(
    new URLSearchParams(post.params.map((p): [string, string] => [p.name, p.value ?? ''])).toString(),
  );
}

/** Decodes an entry that `validateHarFile` accepted. */
export function harEntryToExchange(entry: HarEntry): RecordedExchange {
  const url = splitUrl(entry.request.url);
  if (!url) throw new TypeError(`unvalidated URL ${entry.request.url}`);
  const response = bodyFromContent(
    entry.response.content as LooseContent,
    fromHarHeaders(entry.response.headers),
  );
  const exchange: RecordedExchange = {
    startedDateTime: entry.startedDateTime,
    timeMs: entry.time,
    request: {
      method: entry.request.method,
      scheme: url.scheme,
      host: url.host,
      target: url.target,
      httpVersion: versionOf(entry.request.httpVersion),
      headers: fromHarHeaders(entry.request.headers),
      body: postBody(entry.request.postData),
    },
    response: {
      status: entry.response.status,
      statusText: entry.response.statusText,
      httpVersion: versionOf(entry.response.httpVersion),
      ...response,
      ...(entry.response._recall?.trailers ? { trailers: fromHarHeaders(entry.response._recall.trailers) } : {}),
    },
  };
  if (entry._webSocketMessages) exchange.webSocketMessages = entry._webSocketMessages;
  const grpcEvents = grpcEventsOf(entry._recall?.grpc);
  if (grpcEvents) exchange.grpcEvents = grpcEvents;
  return exchange;
}
