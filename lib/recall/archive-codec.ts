/**
 * Converts between the in-memory exchange and its HAR 1.2 entry. Bodies stay byte-exact: a body is stored as text
 * only when it is valid UTF-8 and carries no Content-Encoding, otherwise as base64.
 */
import { isUtf8 } from 'node:buffer';
import type { HarEntry, HarNameValue, RawHeaders, RecordedExchange } from './archive-types.js';

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

const URL_PATTERN = /^(https?):\/\/([^/?#]*)([/?][^]*)?$/;

/** Splits an archive URL back into scheme, host and target; undefined when it is not `http(s)://host/...`. */
export function splitUrl(
  url: string,
): { scheme: 'http' | 'https'; host: string; target: string } | undefined {
  const match = URL_PATTERN.exec(url);
  if (!match) return undefined;
  return { scheme: match[1] as 'http' | 'https', host: match[2] ?? '', target: match[3] ?? '/' };
}

export function exchangeToHarEntry(exchange: RecordedExchange): HarEntry {
  const { request, response } = exchange;
  const entry: HarEntry = {
    startedDateTime: exchange.startedDateTime,
    time: exchange.timeMs,
    request: {
      method: request.method,
      url: urlOf(request),
      httpVersion: `HTTP/${request.httpVersion}`,
      cookies: [],
      headers: toHarHeaders(request.headers),
      queryString: queryOf(request.target),
      headersSize: -1,
      bodySize: request.body.length,
    },
    response: {
      status: response.status,
      statusText: response.statusText,
      httpVersion: `HTTP/${response.httpVersion}`,
      cookies: [],
      headers: toHarHeaders(response.headers),
      content: {
        size: response.body.length,
        mimeType: headerValue(response.headers, 'content-type') ?? 'x-unknown',
        text: '',
      },
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
  if (storableAsText(response.body, response.headers))
    entry.response.content.text = response.body.toString('utf8');
  else {
    entry.response.content.text = response.body.toString('base64');
    entry.response.content.encoding = 'base64';
  }
  return entry;
}

function versionOf(harVersion: string): string {
  return harVersion.replace(/^HTTP\//i, '') || '1.1';
}

/** Decodes an entry that `validateHarFile` accepted. */
export function harEntryToExchange(entry: HarEntry): RecordedExchange {
  const url = splitUrl(entry.request.url);
  if (!url) throw new TypeError(`unvalidated URL ${entry.request.url}`);
  const post = entry.request.postData;
  const content = entry.response.content;
  return {
    startedDateTime: entry.startedDateTime,
    timeMs: entry.time,
    request: {
      method: entry.request.method,
      scheme: url.scheme,
      host: url.host,
      target: url.target,
      httpVersion: versionOf(entry.request.httpVersion),
      headers: fromHarHeaders(entry.request.headers),
      body: post ? Buffer.from(post.text, post._encoding === 'base64' ? 'base64' : 'utf8') : Buffer.alloc(0),
    },
    response: {
      status: entry.response.status,
      statusText: entry.response.statusText,
      httpVersion: versionOf(entry.response.httpVersion),
      headers: fromHarHeaders(entry.response.headers),
      body: Buffer.from(content.text, content.encoding === 'base64' ? 'base64' : 'utf8'),
    },
  };
}
