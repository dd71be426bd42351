/**
 * Undoing and redoing a response's Content-Encoding, so a body can be changed and sent back encoded as it came.
 * "deflate" is tried as zlib-wrapped first (what the standard means) and as raw deflate second (what some servers
 * send), and re-encoded in the variant it arrived in (the original inflated one and deflated the other,
 * research/recall.md §15 B9). gzip, x-gzip, deflate, br and identity are known; anything else is left alone.
 */
import {
  brotliCompressSync,
  brotliDecompressSync,
  deflateRawSync,
  deflateSync,
  gzipSync,
  gunzipSync,
  inflateRawSync,
  inflateSync,
} from 'node:zlib';

export type ContentCoding = 'gzip' | 'deflate' | 'deflate-raw' | 'br';

export interface DecodedBody {
  /** The body with every coding removed. */
  body: Buffer;
  /** The codings in the order they were applied (the Content-Encoding order), to redo with `encodeBody`. */
  codings: ContentCoding[];
}

/**
 * Removes the codings listed in `contentEncoding` (a header value such as `gzip` or `deflate, br`). Returns
 * undefined when a coding is unknown or the body does not decode: such a body must be passed on untouched.
 */
export function decodeBody(body: Buffer, contentEncoding: string | undefined): DecodedBody | undefined {
  const names = (contentEncoding ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '' && name !== 'identity');
  const codings: ContentCoding[] = [];
  let current = body;
  try {
    for (const name of [...names].reverse()) {
      if (name === 'gzip' || name === 'x-gzip') {
        current = gunzipSync(current);
        codings.unshift('gzip');
      } else if (name === 'br') {
        current = brotliDecompressSync(current);
        codings.unshift('br');
      } else if (name === 'deflate') {
        const [inflated, variant] = inflateEither(current);
        current = inflated;
        codings.unshift(variant);
      } else {
        return undefined;
      }
    }
  } catch {
    return undefined; // a corrupt body: the caller passes it on as it came
  }
  return { body: current, codings };
}

/** Applies `codings` (as returned by `decodeBody`) again. */
export function encodeBody(body: Buffer, codings: readonly ContentCoding[]): Buffer {
  let current = body;
  for (const coding of codings) {
    if (coding === 'gzip') current = gzipSync(current);
    else if (coding === 'br') current = brotliCompressSync(current);
    else if (coding === 'deflate') current = deflateSync(current);
    else current = deflateRawSync(current);
  }
  return current;
}

function inflateEither(body: Buffer): [Buffer, ContentCoding] {
  try {
    return [inflateSync(body), 'deflate'];
  } catch {
    return [inflateRawSync(body), 'deflate-raw'];
  }
}
