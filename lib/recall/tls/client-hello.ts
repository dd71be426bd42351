/**
 * Reads the server name (SNI) from a TLS ClientHello before the TLS layer sees it. Node asks for the ALPN protocol
 * synchronously and before its SNI callback, so the protocol a host speaks must be known before the handshake
 * starts: the interceptor peeks at the name, looks the protocol up (possibly asking the real server), then hands
 * the untouched bytes to the TLS socket. The bytes come from the network: every length is checked.
 */
import type { Socket } from 'node:net';

/** Largest ClientHello read before giving up on finding a name (real ones are under 2 kB; TLS allows 16 kB records). */
const MAX_HELLO_BYTES = 32 * 1024;
const INCOMPLETE = Symbol('incomplete');

/** The handshake bytes of the leading TLS records, or INCOMPLETE while a record is still arriving. */
function handshakeBytes(data: Buffer, needed: number): Buffer | typeof INCOMPLETE | undefined {
  const parts: Buffer[] = [];
  let have = 0;
  let offset = 0;
  while (have < needed) {
    if (data.length < offset + 5) return INCOMPLETE;
    if (data[offset] !== 0x16) return undefined; // not a handshake record: not TLS, or not a ClientHello
    const length = data.readUInt16BE(offset + 3);
    if (data.length < offset + 5 + length) return INCOMPLETE;
    parts.push(data.subarray(offset + 5, offset + 5 + length));
    have += length;
    offset += 5 + length;
    if (length === 0) return undefined;
  }
  return Buffer.concat(parts);
}

/**
 * The SNI host name in `data` (the first bytes a client sent), lower case; undefined when the client sent none or
 * the bytes are not a ClientHello; INCOMPLETE when more bytes are needed.
 */
export function serverNameIn(data: Buffer): string | undefined | typeof INCOMPLETE {
  const head = handshakeBytes(data, 4);
  if (head === INCOMPLETE || head === undefined) return head;
  if (head[0] !== 0x01) return undefined;
  const helloLength = head.readUIntBE(1, 3);
  const all = handshakeBytes(data, 4 + helloLength);
  if (all === INCOMPLETE || all === undefined) return all;
  const hello = all.subarray(4, 4 + helloLength);
  let at = 2 + 32; // client_version, random
  const skip = (lengthBytes: number): boolean => {
    if (hello.length < at + lengthBytes) return false;
    at += lengthBytes + hello.readUIntBE(at, lengthBytes);
    return at <= hello.length;
  };
  if (!skip(1) || !skip(2) || !skip(1)) return undefined; // session id, cipher suites, compression methods
  if (hello.length < at + 2) return undefined; // no extensions
  const end = Math.min(hello.length, at + 2 + hello.readUInt16BE(at));
  at += 2;
  while (at + 4 <= end) {
    const type = hello.readUInt16BE(at);
    const length = hello.readUInt16BE(at + 2);
    const body = hello.subarray(at + 4, Math.min(end, at + 4 + length));
    at += 4 + length;
    if (type !== 0) continue;
    // server_name_list: 2-byte length, then (name_type, 2-byte length, name) entries; type 0 is host_name.
    let entry = 2;
    while (entry + 3 <= body.length) {
      const nameLength = body.readUInt16BE(entry + 1);
      const name = body.subarray(entry + 3, entry + 3 + nameLength);
      if (body[entry] === 0 && name.length === nameLength && /^[\x21-\x7e]+$/.test(name.toString('latin1')))
        return name.toString('latin1').toLowerCase();
      entry += 3 + nameLength;
    }
    return undefined;
  }
  return undefined;
}

/**
 * Reads from a paused socket until its ClientHello is complete (or `timeoutMs` passes, or the bytes are not one),
 * puts every byte read back, and leaves the socket paused. Resolves the SNI name, or undefined.
 */
export function peekServerName(socket: Socket, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (name: string | undefined): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      if (buffered.length > 0 && !socket.destroyed) socket.unshift(buffered);
      resolve(name);
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const name = serverNameIn(buffered);
      if (name !== INCOMPLETE) finish(name);
      else if (buffered.length > MAX_HELLO_BYTES) finish(undefined);
    };
    const onEnd = (): void => finish(undefined);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.resume();
  });
}
