/**
 * gRPC's framing over HTTP/2 (the wire format of grpc/PROTOCOL-HTTP2.md): a request or response body is a sequence
 * of length-prefixed messages, each a 1-byte compressed flag, a 4-byte big-endian length and that many bytes. The
 * call's status comes in `grpc-status` / `grpc-message`, in the trailers, or alone in the headers of a
 * trailers-only reply. Bodies come from the network and from archives: lengths are checked, never trusted.
 */
import type { RawHeaders } from '../archive/archive-types.js';
import { headerValue } from '../http/http-headers.js';

export interface GrpcMessage {
  /** The message was sent compressed (with the call's `grpc-encoding`). */
  compressed: boolean;
  bytes: Buffer;
}

/** gRPC status codes Recall answers itself. */
export const GRPC_STATUS = { OK: 0, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;

/** True for a gRPC content type: `application/grpc`, `application/grpc+proto`, `application/grpc+json`... */
export function isGrpcContentType(value: string | undefined): boolean {
  return /^application\/grpc(?:[+;]|$)/i.test(value ?? '');
}

/** True for a gRPC call (by its content type). */
export function isGrpc(headers: RawHeaders): boolean {
  return isGrpcContentType(headerValue(headers, 'content-type'));
}

/** The messages of a gRPC body, or undefined when the bytes are not a whole number of well-formed messages. */
export function splitMessages(body: Buffer): GrpcMessage[] | undefined {
  const messages: GrpcMessage[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length < at + 5) return undefined;
    const flag = body[at];
    if (flag !== 0 && flag !== 1) return undefined;
    const length = body.readUInt32BE(at + 1);
    if (body.length < at + 5 + length) return undefined;
    messages.push({ compressed: flag === 1, bytes: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return messages;
}

/** The messages of a gRPC body each whole as on the wire (flag and length included), or undefined as above. */
export function wireMessages(body: Buffer): Buffer[] | undefined {
  const messages = splitMessages(body);
  if (!messages) return undefined;
  let at = 0;
  return messages.map((m) => body.subarray(at, (at += 5 + m.bytes.length)));
}

/** One message framed for the wire (uncompressed). */
export function frameMessage(bytes: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** `grpc-status` of a reply: from the trailers, else from the headers (trailers-only); undefined when absent. */
export function grpcStatusOf(headers: RawHeaders, trailers: RawHeaders | undefined): number | undefined {
  const value = headerValue(trailers ?? [], 'grpc-status') ?? headerValue(headers, 'grpc-status');
  return value === undefined || !/^\d+$/.test(value) ? undefined : Number(value);
}

/** `grpc-message` (percent-encoded on the wire) decoded, from trailers or headers. */
export function grpcMessageOf(headers: RawHeaders, trailers: RawHeaders | undefined): string | undefined {
  const value = headerValue(trailers ?? [], 'grpc-message') ?? headerValue(headers, 'grpc-message');
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A `grpc-message` value: percent-encoded as the protocol asks (only printable ASCII but `%` is left as is). */
export function encodeGrpcMessage(text: string): string {
  return Buffer.from(text, 'utf8').reduce(
    (out, byte) => out + (byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`),
    '',
  );
}
