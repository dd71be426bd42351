/**
 * Undoing and redoing a response's Content-Encoding, so a body can be changed, stored decoded, or served to a client
 * that cannot decode it. "deflate" is tried as zlib-wrapped first (what the standard means) and as raw deflate
 * second (what some servers send), and re-encoded in the variant it arrived in (research/recall.md §15 B9).
 * gzip, x-gzip, deflate, br and identity are known; anything else is left alone.
 *
 * The work runs on libuv's thread pool (async zlib), never on the event loop, so a device's DNS and HTTP are answered
 * while a large page is recoded; and every decode stops at a byte cap, so a small gzip bomb cannot inflate to
 * hundreds of megabytes. The synchronous variant is for loading archives only (not on any request path).
 */
import { promisify } from 'node:util';
import {
  brotliCompress,
  brotliDecompress,
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  deflate,
  deflateRaw,
  deflateRawSync,
  deflateSync,
  gunzip,
  gunzipSync,
  gzip,
  gzipSync,
  inflate,
  inflateRaw,
  inflateRawSync,
  inflateSync,
  type BrotliOptions,
  type ZlibOptions,
} from 'node:zlib';
import type { Logger } from 'pino';
import type { RecordedExchange } from '../archive/archive-types.js';
import { headerValue } from './http-headers.js';

export type ContentCoding = 'gzip' | 'deflate' | 'deflate-raw' | 'br';

/** Largest decoded body, in bytes, unless a caller says otherwise: past it a body is kept as it came. */
export const DEFAULT_MAX_DECODED_BYTES = 32 * 1024 * 1024;

/**
 * Brotli quality used when Recall compresses: 5 is within a few percent of 11's size on web pages at a small
 * fraction of its time (11 took 1.6 s for a 1 MB page).
 */
export const BROTLI_QUALITY = 5;

export interface DecodedBody {
  /** The body with every coding removed. */
  body: Buffer;
  /** The codings in the order they were applied (the Content-Encoding order), to redo with `encodeBody`. */
  codings: ContentCoding[];
}

export interface DecodeOptions {
  /** Stop and give up past this many decoded bytes. @default DEFAULT_MAX_DECODED_BYTES */
  maxBytes?: number;
  /** Where the one line about a body over the cap goes. */
  logger?: Logger;
  /** Names the body in that line (a URL). */
  what?: string;
}

type Decoder = (body: Buffer, options: ZlibOptions & BrotliOptions) => Promise<Buffer>;

const gunzipAsync: Decoder = promisify(gunzip);
const brotliDecompressAsync: Decoder = promisify(brotliDecompress);
const inflateAsync: Decoder = promisify(inflate);
const inflateRawAsync: Decoder = promisify(inflateRaw);
const gzipAsync = promisify(gzip);
const deflateAsync = promisify(deflate);
const deflateRawAsync = promisify(deflateRaw);
const brotliCompressAsync = promisify(brotliCompress);

/**
 * The known codings of a Content-Encoding value (`gzip`, `deflate, br`), in the order they were applied; undefined
 * when one is unknown (such a body must be passed on untouched). `identity` and empty values give `[]`.
 */
export function parseContentEncoding(
  contentEncoding: string | undefined,
): Array<'gzip' | 'deflate' | 'br'> | undefined {
  const codings: Array<'gzip' | 'deflate' | 'br'> = [];
  for (const raw of (contentEncoding ?? '').split(',')) {
    const name = raw.trim().toLowerCase();
    if (name === '' || name === 'identity') continue;
    if (name === 'gzip' || name === 'x-gzip') codings.push('gzip');
    else if (name === 'br' || name === 'deflate') codings.push(name);
    else return undefined;
  }
  return codings;
}

function isTooLarge(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError;
}

function logTooLarge(options: DecodeOptions, maxBytes: number): void {
  options.logger?.warn(
    { body: options.what, maxBytes },
    `body decodes to more than ${maxBytes} bytes: kept as it came (encoded)`,
  );
}

/**
 * Removes the codings listed in `contentEncoding`. Returns undefined when a coding is unknown, the body does not
 * decode, or it decodes past `maxBytes` (logged once): such a body must be passed on untouched.
 */
export async function decodeBody(
  body: Buffer,
  contentEncoding: string | undefined,
  options: DecodeOptions = {},
): Promise<DecodedBody | undefined> {
  const names = parseContentEncoding(contentEncoding);
  if (!names) return undefined;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DECODED_BYTES;
  const limit = { maxOutputLength: maxBytes };
  const codings: ContentCoding[] = [];
  let current = body;
  try {
    for (const name of [...names].reverse()) {
      if (name === 'gzip') current = await gunzipAsync(current, limit);
      else if (name === 'br') current = await brotliDecompressAsync(current, limit);
      else {
        try {
          current = await inflateAsync(current, limit);
        } catch (error) {
          if (isTooLarge(error)) throw error;
          current = await inflateRawAsync(current, limit);
          codings.unshift('deflate-raw');
          continue;
        }
      }
      codings.unshift(name);
    }
  } catch (error) {
    if (isTooLarge(error)) logTooLarge(options, maxBytes);
    return undefined; // a corrupt or oversized body: the caller passes it on as it came
  }
  return { body: current, codings };
}

/**
 * `decodeBody` on the calling thread, for loading and writing archives (never on a request path). 'too-large' when
 * the body is valid so far but decodes past `maxBytes`.
 */
export function decodeBodySync(
  body: Buffer,
  contentEncoding: string | undefined,
  maxBytes = DEFAULT_MAX_DECODED_BYTES,
): DecodedBody | 'too-large' | undefined {
  const names = parseContentEncoding(contentEncoding);
  if (!names) return undefined;
  const limit = { maxOutputLength: maxBytes };
  const codings: ContentCoding[] = [];
  let current = body;
  try {
    for (const name of [...names].reverse()) {
      if (name === 'gzip') current = gunzipSync(current, limit);
      else if (name === 'br') current = brotliDecompressSync(current, limit);
      else {
        try {
          current = inflateSync(current, limit);
        } catch (error) {
          if (isTooLarge(error)) throw error;
          current = inflateRawSync(current, limit);
          codings.unshift('deflate-raw');
          continue;
        }
      }
      codings.unshift(name);
    }
  } catch (error) {
    return isTooLarge(error) ? 'too-large' : undefined;
  }
  return { body: current, codings };
}

function brotliParams(size: number): BrotliOptions {
  return {
    params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: size },
  };
}

/** `encodeBody` on the calling thread, for loading archives whose bodies were stored decoded. */
export function encodeBodySync(body: Buffer, codings: readonly ContentCoding[]): Buffer {
  let current = body;
  for (const coding of codings) {
    if (coding === 'gzip') current = gzipSync(current);
    else if (coding === 'deflate') current = deflateSync(current);
    else if (coding === 'deflate-raw') current = deflateRawSync(current);
    else current = brotliCompressSync(current, brotliParams(current.length));
  }
  return current;
}

/** Applies `codings` (as returned by `decodeBody` or `parseContentEncoding`) again, off the event loop. */
export async function encodeBody(body: Buffer, codings: readonly ContentCoding[]): Promise<Buffer> {
  let current = body;
  for (const coding of codings) {
    if (coding === 'gzip') current = await gzipAsync(current);
    else if (coding === 'deflate') current = await deflateAsync(current);
    else if (coding === 'deflate-raw') current = await deflateRawAsync(current);
    else current = await brotliCompressAsync(current, brotliParams(current.length));
  }
  return current;
}

/**
 * The exchange with `response.decoded` set when its body has a known Content-Encoding that decodes within the cap
 * (what the archive stores as `content.text`); the same exchange otherwise.
 */
export async function withDecodedBody<T extends Pick<RecordedExchange, 'request' | 'response'>>(
  exchange: T,
  logger?: Logger,
): Promise<T> {
  const { request, response } = exchange;
  const coding = headerValue(response.headers, 'content-encoding');
  if (response.body.length === 0 || !parseContentEncoding(coding)?.length) return exchange;
  const what = `${request.method} ${request.scheme}://${request.host}${request.target}`;
  const decoded = await decodeBody(response.body, coding, { logger, what });
  return decoded ? { ...exchange, response: { ...response, decoded: decoded.body } } : exchange;
}
