/**
 * Serving a recorded response in a form the client can decode. A response recorded with a Content-Encoding is
 * sent as recorded when the client's Accept-Encoding takes that coding; otherwise it is sent decoded, without the
 * Content-Encoding header. A missing Accept-Encoding takes no coding (RFC 9110 would allow any, but a client that
 * sends none, like curl without --compressed, cannot decode one, and servers answer it in identity).
 */
import type { RawHeaders, RecordedResponse } from '../archive/archive-types.js';
import { parseContentEncoding } from './content-coding.js';
import { headerValue } from './http-headers.js';

/** True when `acceptEncoding` (a request's Accept-Encoding value) takes every one of `codings`. */
export function acceptsCodings(acceptEncoding: string | undefined, codings: readonly string[]): boolean {
  if (codings.length === 0) return true;
  if (acceptEncoding === undefined) return false;
  const weights = new Map<string, number>();
  for (const item of acceptEncoding.split(',')) {
    const [name = '', ...params] = item.split(';').map((part) => part.trim().toLowerCase());
    if (name === '') continue;
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    weights.set(name === 'x-gzip' ? 'gzip' : name, Number.isFinite(weight) ? weight : 0);
  }
  return codings.every((coding) => {
    const weight = weights.get(coding) ?? weights.get('*');
    return weight !== undefined && weight > 0;
  });
}

/** The headers and body to send for `response` to a client that sent `acceptEncoding`. */
export function bodyForClient(
  response: RecordedResponse,
  acceptEncoding: string | undefined,
): { headers: RawHeaders; body: Buffer } {
  const same = { headers: response.headers, body: response.body };
  if (!response.decoded) return same;
  const codings = parseContentEncoding(headerValue(response.headers, 'content-encoding'));
  if (!codings || acceptsCodings(acceptEncoding, codings)) return same;
  const body = response.decoded;
  return { headers: identityHeadersOf(response, body.length), body };
}

/**
 * The recorded headers without Content-Encoding and with the decoded length, made once per recording: the same
 * list for every replay also lets the request handler reuse what it derives from it.
 */
const identityHeaders = new WeakMap<RecordedResponse, RawHeaders>();
function identityHeadersOf(response: RecordedResponse, length: number): RawHeaders {
  let headers = identityHeaders.get(response);
  if (!headers) {
    headers = [];
    for (const [name, value] of response.headers) {
      const lower = name.toLowerCase();
      if (lower === 'content-encoding') continue;
      headers.push(lower === 'content-length' ? [name, String(length)] : [name, value]);
    }
    identityHeaders.set(response, headers);
  }
  return headers;
}
