/**
 * DNS on the wire: one question/answer exchange with an upstream over UDP or TCP, and the two-byte length framing
 * DNS uses over TCP (RFC 1035 §4.2.2), shared by the client and the server.
 */
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';
import { RecallError } from '../errors.js';
import { endOfQuestionName, sameWireName, wireOfName } from './dns-name.js';
import { sendPooled } from './dns-udp-pool.js';

/** Where an upstream DNS server listens. */
export interface DnsServerAddress {
  /** An IP address (names would need DNS to be resolved). */
  readonly host: string;
  readonly port: number;
}

/** One resource record as dns-packet decodes and encodes it, typed loosely: `data` depends on `type`. */
export interface WireRecord {
  name: string;
  type: string;
  class?: string;
  ttl?: number;
  data?: unknown;
  /** OPT pseudo-records only. */
  udpPayloadSize?: number;
  flags?: number;
  options?: unknown[];
}

/** A DNS message as dns-packet decodes it (its published types omit `rcode` and `opcode`). */
export interface WireMessage {
  id?: number;
  type?: 'query' | 'response';
  flags?: number;
  opcode?: string;
  rcode?: string;
  flag_tc?: boolean;
  questions?: Array<{ name: string; type: string; class?: string }>;
  answers?: WireRecord[];
  authorities?: WireRecord[];
  additionals?: WireRecord[];
}

/** Decodes one DNS message; throws on malformed input. */
export function decodeMessage(bytes: Buffer): WireMessage {
  if (!countsFit(bytes)) throw new Error('DNS message: its section counts need more bytes than it has');
  return dnsPacket.decode(bytes) as unknown as WireMessage;
}

/**
 * True when the header's record counts can fit in the message: a question takes at least 5 bytes, a record 11.
 * dns-packet sizes its arrays by the counts before reading a record, so random counts (up to 4 × 65535) cost
 * megabytes and milliseconds per packet: garbage was 50 times dearer to refuse than a real query to answer.
 */
function countsFit(bytes: Buffer): boolean {
  if (bytes.length < 12) return false;
  const questions = bytes.readUInt16BE(4);
  const records = bytes.readUInt16BE(6) + bytes.readUInt16BE(8) + bytes.readUInt16BE(10);
  return 12 + questions * 5 + records * 11 <= bytes.length;
}

/** Encodes one DNS message. */
export function encodeMessage(message: WireMessage): Buffer {
  return dnsPacket.encode(message as unknown as Parameters<typeof dnsPacket.encode>[0]);
}

type DecodedPacket = WireMessage;

export interface Exchange {
  server: DnsServerAddress;
  query: WireMessage & { id: number };
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Runs one exchange on a socket: `finish` settles it once, with the timeout, the abort signal and the socket's
 * errors all routed through it, and always releases the socket.
 */
function exchangeOn<S extends { on(event: 'error', listener: (error: Error) => void): unknown }>(
  { server, timeoutMs, signal }: Exchange,
  transport: 'UDP' | 'TCP',
  socket: S,
  release: (socket: S) => void,
  start: (finish: (error: unknown, response?: DecodedPacket) => void) => void,
): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown, response?: DecodedPacket): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      release(socket);
      if (response) resolve(response);
      else reject(error);
    };
    const onAbort = (): void => finish(signal?.reason);
    const timer = setTimeout(() => finish(timeoutError(server, timeoutMs)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error) =>
      finish(
        new RecallError(
          'ERR_DNS_UPSTREAM_FAILED',
          `${transport} exchange with ${server.host}:${server.port} failed: ${error.message}`,
          {
            cause: error,
          },
        ),
      ),
    );
    start(finish);
  });
}

/**
 * Sends one query over UDP, on a socket shared with other queries (dns-udp-pool.ts), and resolves with the first
 * well-formed response from the server that matches its id and question.
 */
export function exchangeUdp({ server, query, timeoutMs, signal }: Exchange): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let release = (): void => undefined;
    const finish = (error: unknown, response?: DecodedPacket): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      release();
      if (response) resolve(response);
      else reject(error);
    };
    const onAbort = (): void => finish(signal?.reason);
    if (signal?.aborted) return onAbort();
    const timer = setTimeout(() => finish(timeoutError(server, timeoutMs)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    release = sendPooled({
      host: server.host,
      port: server.port,
      bytes: (id) => encodeQuery({ ...query, id }),
      accept: (message, id) => {
        // Anything else (late answers to an earlier try, spoofed or garbage packets) is ignored on purpose.
        const response = decodeMatching(message, { ...query, id });
        if (response) finish(undefined, response);
        return response !== undefined;
      },
      fail: (error) =>
        finish(
          new RecallError(
            'ERR_DNS_UPSTREAM_FAILED',
            `UDP exchange with ${server.host}:${server.port} failed: ${error.message}`,
            { cause: error },
          ),
        ),
    });
  });
}

/** Sends one query over TCP and resolves with the response. */
export function exchangeTcp(exchange: Exchange): Promise<DecodedPacket> {
  const { server, query } = exchange;
  const socket = connect({ host: server.host, port: server.port });
  const frames = new DnsFrameReader();
  return exchangeOn(
    exchange,
    'TCP',
    socket,
    (s) => s.destroy(),
    (finish) => {
      socket.on('end', () =>
        finish(
          new RecallError(
            'ERR_DNS_UPSTREAM_FAILED',
            `${server.host}:${server.port} closed the TCP connection without answering`,
          ),
        ),
      );
      socket.on('data', (chunk) => {
        for (const message of frames.push(chunk)) {
          const response = decodeMatching(message, query);
          if (response) return finish(undefined, response);
        }
        if (frames.overflowed)
          finish(
            new RecallError(
              'ERR_DNS_UPSTREAM_FAILED',
              `${server.host}:${server.port} sent an oversized TCP frame`,
            ),
          );
      });
      socket.write(frameDnsMessage(encodeQuery(query)));
    },
  );
}

function timeoutError(server: DnsServerAddress, timeoutMs: number): RecallError {
  return new RecallError(
    'ERR_DNS_UPSTREAM_TIMEOUT',
    `${server.host}:${server.port} did not answer within ${timeoutMs} ms`,
  );
}

/**
 * The query's bytes with its question name written from presentation text (`\\.`, `\\DDD` escapes kept as the
 * bytes they stand for), where dns-packet would split at every dot and write labels as UTF-8.
 */
export function encodeQuery(query: WireMessage): Buffer {
  const asked = query.questions?.[0];
  const wire = asked ? wireOfName(asked.name) : undefined;
  if (!asked || !wire) return encodeMessage(query);
  const rooted = encodeMessage({ ...query, questions: [{ ...asked, name: '.' }] });
  return Buffer.concat([rooted.subarray(0, 12), wire, rooted.subarray(13)]);
}

function decodeMatching(message: Buffer, query: Exchange['query']): DecodedPacket | undefined {
  let response: DecodedPacket;
  try {
    response = decodeMessage(message);
  } catch {
    return undefined; // not a DNS message: ignored, the exchange waits for a real answer or times out
  }
  if (response.type !== 'response' || response.id !== query.id) return undefined;
  const asked = query.questions?.[0];
  const echoed = response.questions?.[0];
  if (!asked || !echoed) return response;
  if (echoed.type !== asked.type) return undefined;
  // Names compared as bytes: the root is `.` in one text and empty in the other, and escapes differ from UTF-8.
  const askedWire = wireOfName(asked.name);
  const echoedEnd = endOfQuestionName(message);
  if (askedWire && echoedEnd !== undefined)
    return sameWireName(askedWire, message.subarray(12, echoedEnd)) ? response : undefined;
  return echoed.name.toLowerCase() === asked.name.toLowerCase() ? response : undefined;
}

/** Prefixes a DNS message with its two-byte length for TCP. */
export function frameDnsMessage(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

/** Splits a TCP byte stream into DNS messages. */
export class DnsFrameReader {
  #buffer: Buffer = Buffer.alloc(0);
  /** True once more than one maximal frame is buffered without being complete (cannot happen with a 16-bit length). */
  overflowed = false;

  /** True while part of a message is buffered (its length or some of its bytes, not all). */
  get partial(): boolean {
    return this.#buffer.length > 0;
  }

  /** Adds received bytes and returns every message completed by them. */
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const messages: Buffer[] = [];
    while (this.#buffer.length >= 2) {
      const length = this.#buffer.readUInt16BE(0);
      if (this.#buffer.length < 2 + length) break;
      messages.push(this.#buffer.subarray(2, 2 + length));
      this.#buffer = this.#buffer.subarray(2 + length);
    }
    this.overflowed = this.#buffer.length > 2 + 65535;
    return messages;
  }
}
