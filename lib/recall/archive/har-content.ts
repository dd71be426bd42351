/**
 * A response body in a HAR entry's `content`, both ways (docs/recall.md "Bodies").
 *
 * Written (archive version 2), as HAR 1.2 and viewers expect: `text` is the decoded body and `size` its length;
 * where that is not what was sent (a Content-Encoding), the exact wire bytes go in `content._recall.wire`; a body
 * whose coding is unknown or that does not decode is stored as sent, marked `content._recall.encoded`.
 *
 * Read, from any source: the `_recall` markers decide when present. Otherwise, under a Content-Encoding header,
 * base64 text (or a JSON list of hex chunks) that decodes with that coding is the wire body (Recall version 1,
 * Polly.js); anything else is
 * the decoded body (what browsers and most tools store), and is encoded again so that a client accepting the
 * coding gets it. Decoded text under a coding Recall cannot produce (zstd) loses the header instead.
 */
import { isUtf8 } from 'node:buffer';
import type { HarContent, RawHeaders, RecordedResponse } from './archive-types.js';
import { decodeBodySync, encodeBodySync, parseContentEncoding } from '../http/content-coding.js';
import { headerValue } from '../http/http-headers.js';

/** Largest body decoded while writing an archive when the recorder did not decode it already. */
const WRITE_DECODE_CAP = 4 * 1024 * 1024;

function asText(body: Buffer): Pick<HarContent, 'text' | 'encoding'> {
  return isUtf8(body)
    ? { text: body.toString('utf8') }
    : { text: body.toString('base64'), encoding: 'base64' };
}

function decodedForWrite(body: Buffer, coding: string | undefined, known: boolean): Buffer | undefined {
  const result = known ? decodeBodySync(body, coding, WRITE_DECODE_CAP) : undefined;
  return typeof result === 'object' ? result.body : undefined;
}

/** The `content` object of a response. */
export function contentOf(response: RecordedResponse): HarContent {
  const { body, headers } = response;
  const mimeType = headerValue(headers, 'content-type') ?? 'x-unknown';
  const coding = headerValue(headers, 'content-encoding');
  const codings = parseContentEncoding(coding);
  if (body.length === 0 || codings?.length === 0) return { size: body.length, mimeType, ...asText(body) };
  const decoded = response.decoded ?? decodedForWrite(body, coding, codings !== undefined);
  if (!decoded)
    return {
      size: body.length,
      mimeType,
      text: body.toString('base64'),
      encoding: 'base64',
      _recall: { encoded: true },
    };
  return {
    size: decoded.length,
    ...(decoded.length > body.length ? { compression: decoded.length - body.length } : {}),
    mimeType,
    ...asText(decoded),
    _recall: { wire: body.toString('base64') },
  };
}

/**
 * Whether `decoded` can be what `wire` holds: a compressed body decodes to about its own length or more. Brotli
 * has no magic number, and about 4% of random binary "decodes" as an empty brotli stream followed by ignored bytes;
 * a binary body a browser stored decoded under `br` must not be taken for the wire bytes.
 */
function plausiblyDecoded(wire: Buffer, decoded: Buffer): boolean {
  return decoded.length * 2 >= wire.length;
}

const HEX_CHUNKS = /^\[\s*"[0-9a-f]*"(\s*,\s*"[0-9a-f]*")*\s*\]$/i;

/** The bytes of a JSON list of hex strings (older Polly.js releases keep content-encoded bodies so), else undefined. */
function hexChunks(text: Buffer): Buffer | undefined {
  if (text.length < 4 || text[0] !== 0x5b) return undefined;
  const json = text.toString('utf8');
  if (!HEX_CHUNKS.test(json)) return undefined;
  return Buffer.concat((JSON.parse(json) as string[]).map((chunk) => Buffer.from(chunk, 'hex')));
}

/** A `content` as found in any HAR: fields may be missing or of another type (foreign exports). */
export interface LooseContent {
  text?: unknown;
  encoding?: unknown;
  _recall?: { wire?: unknown; encoded?: unknown };
}

/** The response body (and headers, when the coding had to go) from a stored `content`. */
export function bodyFromContent(
  content: LooseContent,
  headers: RawHeaders,
): Pick<RecordedResponse, 'body' | 'decoded' | 'headers'> {
  const base64 = content.encoding === 'base64';
  const stored =
    typeof content.text === 'string'
      ? Buffer.from(content.text, base64 ? 'base64' : 'utf8')
      : Buffer.alloc(0);
  const marker = content._recall;
  if (typeof marker?.wire === 'string')
    return { body: Buffer.from(marker.wire, 'base64'), decoded: stored, headers };
  if (marker?.encoded === true) return { body: stored, headers };
  const coding = headerValue(headers, 'content-encoding');
  const codings = parseContentEncoding(coding);
  if (stored.length === 0 || codings?.length === 0) return { body: stored, headers };
  if (!codings) {
    // Plain text cannot be compressed bytes: the tool stored it decoded, and Recall cannot redo that coding.
    if (base64) return { body: stored, headers };
    return { body: stored, headers: headers.filter(([name]) => name.toLowerCase() !== 'content-encoding') };
  }
  const candidate = base64 ? stored : hexChunks(stored);
  if (candidate) {
    const wire = decodeBodySync(candidate, coding);
    if (wire === 'too-large') return { body: candidate, headers };
    if (wire && plausiblyDecoded(candidate, wire.body))
      return { body: candidate, decoded: wire.body, headers };
  }
  return { body: encodeBodySync(stored, codings), decoded: stored, headers };
}
