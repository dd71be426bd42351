/**
 * The commonest query read straight from its bytes, without dns-packet: one A or AAAA question in class IN, written
 * in plain labels, with no records but an optional OPT. Nearly every query a device sends is this, and decoding it
 * generically cost more than answering it. Whatever else comes (other types, compression, other records, options
 * dns-packet reads specially, a byte left over) is `undefined` here and goes through the general decoder, so both
 * paths give the same reply: everything accepted here is a message dns-packet decodes too.
 */

const HEADER = 12;
const TYPE_A = 1;
const TYPE_AAAA = 28;
const TYPE_OPT = 41;
const CLASS_IN = 1;
/** EDNS options dns-packet parses beyond their bytes (client subnet, TCP keepalive, key tag): general path. */
const PARSED_OPTIONS = new Set([8, 11, 14]);

export interface PlainQuery {
  readonly type: 'A' | 'AAAA';
  /** Offset just past the question name's zero byte (the type follows). */
  readonly nameEnd: number;
  /** The query's RD bit, in place (0 or 0x0100). */
  readonly recursionDesired: number;
  /** The UDP payload size its OPT record offers; undefined when it has none. */
  readonly ednsPayload: number | undefined;
}

/** The query's question and EDNS size when it is a plain A/AAAA query; undefined for anything else. */
export function readPlainQuery(message: Buffer): PlainQuery | undefined {
  if (message.length < HEADER + 5) return undefined;
  // Bytes read directly: this runs for every query, and readUInt16BE's checks were a third of its cost.
  const m = message as Uint8Array;
  if (((m[2] as number) & 0xf8) !== 0) return undefined; // a response, or an opcode other than QUERY
  if (m[4] !== 0 || m[5] !== 1 || m[6] !== 0 || m[7] !== 0 || m[8] !== 0 || m[9] !== 0 || m[10] !== 0) return undefined;
  const additionals = m[11] as number;
  if (additionals > 1) return undefined;
  const nameEnd = plainNameEnd(message);
  if (nameEnd === undefined || nameEnd + 4 > message.length) return undefined;
  const typeCode = ((m[nameEnd] as number) << 8) | (m[nameEnd + 1] as number);
  const type = typeCode === TYPE_A ? 'A' : typeCode === TYPE_AAAA ? 'AAAA' : undefined;
  if (type === undefined || m[nameEnd + 2] !== 0 || m[nameEnd + 3] !== CLASS_IN) return undefined;
  const questionEnd = nameEnd + 4;
  let ednsPayload: number | undefined;
  if (additionals === 1) {
    ednsPayload = plainOptPayload(message, questionEnd);
    if (ednsPayload === undefined) return undefined;
  } else if (questionEnd !== message.length) return undefined;
  return { type, nameEnd, recursionDesired: ((m[2] as number) & 0x01) << 8, ednsPayload };
}

/** End of the question name in plain labels, within dns-packet's limit of 254 bytes of labels; else undefined. */
function plainNameEnd(message: Buffer): number | undefined {
  let offset = HEADER;
  for (;;) {
    const length = message[offset];
    if (length === undefined || length > 63) return undefined;
    offset += 1 + length;
    if (length === 0) return offset;
    if (offset > message.length || offset - HEADER > 254) return undefined;
  }
}

/** The payload size of an OPT record at `offset` that ends the message, owned by the root; undefined otherwise. */
function plainOptPayload(message: Buffer, offset: number): number | undefined {
  const rdataStart = offset + 11;
  if (rdataStart > message.length || message[offset] !== 0) return undefined;
  if (message.readUInt16BE(offset + 1) !== TYPE_OPT) return undefined;
  if (rdataStart + message.readUInt16BE(offset + 9) !== message.length) return undefined;
  for (let option = rdataStart; option < message.length; ) {
    if (option + 4 > message.length || PARSED_OPTIONS.has(message.readUInt16BE(option))) return undefined;
    option += 4 + message.readUInt16BE(option + 2);
    if (option > message.length) return undefined;
  }
  return message.readUInt16BE(offset + 3);
}
