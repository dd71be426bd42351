/** Converting WebSocket messages between the wire (`ws` data and binary flag) and Chrome's HAR message form. */
import type { RawData } from 'ws';
import type { HarWebSocketMessage } from '../archive/archive-types.js';

/** The bytes of a message as `ws` delivers it (a Buffer, an array of them, or an ArrayBuffer). */
export function bytesOf(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** One message as Chrome exports it: text as is, binary as base64; `time` in seconds since the epoch. */
export function harMessage(
  type: 'send' | 'receive',
  data: RawData,
  isBinary: boolean,
  at = Date.now(),
): HarWebSocketMessage {
  const bytes = bytesOf(data);
  return {
    type,
    time: at / 1000,
    opcode: isBinary ? 2 : 1,
    data: isBinary ? bytes.toString('base64') : bytes.toString('utf8'),
  };
}

/** The payload of a recorded message, ready to send: a string for text, bytes for binary. */
export function payloadOf(message: HarWebSocketMessage): { data: string | Buffer; binary: boolean } {
  return message.opcode === 2
    ? { data: Buffer.from(message.data, 'base64'), binary: true }
    : { data: message.data, binary: false };
}
