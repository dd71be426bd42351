/**
 * How `recall show` presents a stored body: the decoded text when there is text to show (also for a body that was
 * compressed on the wire), otherwise a label that says what the bytes are: binary, or encoded and undecodable.
 */
import { isUtf8 } from 'node:buffer';
import type { RawHeaders } from './archive-types.js';
import { headerValue } from '../http/http-headers.js';

export interface BodyView {
  /** Text to print (decoded), when the body is UTF-8 text. */
  text?: string;
  /** A bracketed line describing the body; printed before the text, or alone when there is no text. */
  label: string;
}

/** The view of a request or response body (`decoded` only on responses with a Content-Encoding that decoded). */
export function bodyView(part: { headers: RawHeaders; body: Buffer; decoded?: Buffer }): BodyView {
  if (part.body.length === 0) return { label: '' };
  const raw = headerValue(part.headers, 'content-encoding')?.trim() ?? '';
  const coding = raw === '' || raw.toLowerCase() === 'identity' ? undefined : raw;
  const type = headerValue(part.headers, 'content-type');
  const of = type ? ` (${type})` : '';
  if (!coding) {
    if (isUtf8(part.body)) return { text: part.body.toString('utf8'), label: '' };
    return { label: `[${part.body.length} bytes of binary${of}, stored as base64]` };
  }
  const wire = `${coding}-encoded, ${part.body.length} bytes on the wire`;
  if (!part.decoded)
    return {
      label: `[${part.body.length} bytes${of}, ${coding}-encoded, not decoded: stored as sent, base64]`,
    };
  if (!isUtf8(part.decoded)) return { label: `[${part.decoded.length} bytes of binary${of}, ${wire}]` };
  return {
    text: part.decoded.toString('utf8'),
    label: `[${part.decoded.length} bytes of text, ${wire}; shown decoded]`,
  };
}
