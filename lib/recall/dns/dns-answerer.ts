/**
 * What the DNS server says to one query, apart from sockets: decodes it, asks the resolver, feeds the name map,
 * and encodes the reply. Rules (each one fixes a defect of the original, research/recall.md §15 B6, B16, D4):
 * - A, AAAA and PTR are answered from the resolver, with the upstream TTL and the question's own spelling.
 * - Every other type gets NODATA (NOERROR, no answer) when the name exists, NXDOMAIN when it does not; never NOTIMP.
 * - NXDOMAIN only for names that do not exist (upstream, or in the archive during playback).
 * - A resolver failure is SERVFAIL; a query that cannot be decoded is FORMERR when its header is readable, and
 *   ignored otherwise; responses (QR set) are ignored so two servers cannot loop; other opcodes get NOTIMP.
 */
import dnsPacket from 'dns-packet';
import type { Logger } from 'pino';
import type { DnsRecordType, DnsResolver, RecordedDnsAnswer } from './dns-types.js';
import { addressForReverseName, type NameMap } from './name-map.js';
import { decodeMessage, encodeMessage, type WireMessage } from './dns-transport.js';
import { raceAbort } from '../../abort.js';
import type { Deadline } from '../deadline-signals.js';
import { encodeAddressReply } from './dns-address-reply.js';
import { endOfQuestion, endOfQuestionName, textOfWireName } from './dns-name.js';
import { readPlainQuery, type PlainQuery } from './dns-plain-query.js';
import type { DnsReplyCache } from './dns-reply-cache.js';

/** Answer every A (and, when given, AAAA) question with these addresses instead of the real ones. */
export interface DnsRedirect {
  /** Address given in every A answer, e.g. the Recall server's own address. */
  readonly ipv4?: string;
  /** Address given in every AAAA answer; without it AAAA questions get NODATA, so clients use IPv4. */
  readonly ipv6?: string;
  /** TTL of redirected answers, in seconds. @default 60 */
  readonly ttl?: number;
}

export interface AnswerContext {
  readonly resolver: DnsResolver;
  readonly nameMap: NameMap | undefined;
  readonly redirect: DnsRedirect | undefined;
  /** The query's deadline; its signal is made only when the resolver or a pending answer needs one. */
  readonly deadline: Deadline;
  readonly logger: Logger;
  /** Where to keep replies to plain queries whose answers the resolver gives again (the server answers from it). */
  readonly replies?: DnsReplyCache<ResponseCode>;
}

export type ResponseCode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';
const RCODE_BITS: Record<ResponseCode, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};
const ANSWERED_TYPES = new Set<string>(['A', 'AAAA', 'PTR']);
/** Largest UDP reply we offer over EDNS (the DNS flag day 2020 value). */
const EDNS_PAYLOAD = 1232;

type Packet = WireMessage;

export interface Reply {
  rcode: ResponseCode;
  /** The encoded reply; undefined when the message gets no reply at all. */
  bytes: Buffer | undefined;
}

/**
 * Answers one DNS message. `udpLimit` is true over UDP: too large replies are then truncated (TC set). The reply
 * comes synchronously when the resolver answers synchronously (playback does), else as a promise.
 */
export function answerMessage(message: Buffer, udpLimit: boolean, context: AnswerContext): Reply | Promise<Reply> {
  const plain = readPlainQuery(message);
  if (plain) return answerAddressQuery(message, plain, udpLimit, context);
  let query: Packet;
  try {
    query = decodeMessage(message);
  } catch {
    return { rcode: 'FORMERR', bytes: headerOnlyError(message) };
  }
  if (query.type === 'response') return { rcode: 'REFUSED', bytes: undefined };
  const question = query.questions?.[0];
  if (query.opcode !== 'QUERY') return finish(message, query, 'NOTIMP', undefined, udpLimit);
  if (!question || (query.questions?.length ?? 0) !== 1) return finish(message, query, 'FORMERR', undefined, udpLimit);
  if ((question.class ?? 'IN') !== 'IN') return finish(message, query, 'NOTIMP', undefined, udpLimit);
  // The name as the bytes say it (escaped where needed), not as dns-packet's UTF-8 reading of them.
  const nameEnd = endOfQuestionName(message);
  const name = nameEnd === undefined ? question.name : textOfWireName(message, 12, nameEnd);
  const answered = (answer: RecordedDnsAnswer): Reply => finish(message, query, rcodeOf(answer), answer, udpLimit);
  const failed = (error: unknown): Reply => {
    context.logger.warn({ err: error, name, type: question.type }, 'resolver failed: answering SERVFAIL');
    return finish(message, query, 'SERVFAIL', undefined, udpLimit);
  };
  try {
    const answer = answerQuestion(name, question.type, context);
    return answer instanceof Promise ? answer.then(answered, failed) : answered(answer);
  } catch (error) {
    return failed(error);
  }
}

/**
 * `answerMessage` for a plain A/AAAA query (dns-plain-query.ts): the same rules and the same reply bytes, without
 * decoding the message. A reply it cannot write directly (too large for UDP) is made by the general encoder.
 */
function answerAddressQuery(
  message: Buffer,
  plain: PlainQuery,
  udpLimit: boolean,
  context: AnswerContext,
): Reply | Promise<Reply> {
  const name = textOfWireName(message, 12, plain.nameEnd);
  const generic = (rcode: ResponseCode, answer: RecordedDnsAnswer | undefined): Reply =>
    finish(message, decodeMessage(message), rcode, answer, udpLimit);
  const answered = (answer: RecordedDnsAnswer): Reply => {
    const rcode = rcodeOf(answer);
    const direct = addressReply(message, plain, rcode, answer, udpLimit);
    if (!direct) return generic(rcode, answer);
    if (context.replies && context.resolver.answersAgain?.({ name, type: plain.type })) {
      context.replies.store(message, plain, direct);
    }
    return direct;
  };
  const failed = (error: unknown): Reply => {
    context.logger.warn({ err: error, name, type: plain.type }, 'resolver failed: answering SERVFAIL');
    return generic('SERVFAIL', undefined);
  };
  try {
    const answer = answerQuestion(name, plain.type, context);
    return answer instanceof Promise ? answer.then(answered, failed) : answered(answer);
  } catch (error) {
    return failed(error);
  }
}

function rcodeOf(answer: RecordedDnsAnswer): ResponseCode {
  return answer.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : 'NOERROR';
}

function answerQuestion(name: string, type: string, context: AnswerContext): MaybePromise<RecordedDnsAnswer> {
  const { nameMap, redirect } = context;
  if (!ANSWERED_TYPES.has(type)) {
    // Not answered, but tell existing names from missing ones by the name's A records (recorded as usual).
    return then(ask(name, 'A', context), (probe) => {
      nameMap?.addAnswer(probe);
      return {
        name: probe.name,
        type: type as DnsRecordType,
        ttl: probe.ttl,
        data: [],
        ...(probe.rcode ? { rcode: probe.rcode } : {}),
      };
    });
  }
  if (type === 'PTR' && nameMap) {
    const address = addressForReverseName(name);
    const known = address === undefined ? undefined : nameMap.nameForAddress(address);
    // A reverse question for an address we answered names the host we answered it for, as the original did.
    if (known !== undefined) return { name, type: 'PTR', ttl: 300, data: [known] };
  }
  return then(ask(name, type as DnsRecordType, context), (real) => {
    nameMap?.addAnswer(real);
    if (!redirect || type === 'PTR' || real.rcode === 'NXDOMAIN') return real;
    const fixed = type === 'A' ? redirect.ipv4 : redirect.ipv6;
    return { name: real.name, type: real.type, ttl: redirect.ttl ?? 60, data: fixed === undefined ? [] : [fixed] };
  });
}

type MaybePromise<T> = T | Promise<T>;

/** Asks the resolver. A pending answer is bounded by the query's signal: a resolver that ignores the signal cannot
 * keep a query waiting forever, so every query still gets its SERVFAIL. */
function ask(name: string, type: DnsRecordType, { resolver, deadline }: AnswerContext): MaybePromise<RecordedDnsAnswer> {
  const answer = resolver.resolve({ name, type }, deadline);
  return answer instanceof Promise ? raceAbort(answer, deadline.signal) : answer;
}

function then<T, U>(value: MaybePromise<T>, next: (value: T) => U): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

function finish(
  message: Buffer,
  query: Packet,
  rcode: ResponseCode,
  answer: RecordedDnsAnswer | undefined,
  udpLimit: boolean,
): Reply {
  const question = query.questions?.[0];
  const edns = (query.additionals ?? []).find((r) => r.type === 'OPT');
  const requested = edns?.udpPayloadSize ?? 512;
  const limit = edns ? Math.max(512, Math.min(requested, EDNS_PAYLOAD)) : 512;
  const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  const flags = rd | dnsPacket.RECURSION_AVAILABLE | RCODE_BITS[rcode];
  const answers = (answer?.data ?? []).map((data) => ({
    name: '.', // each owner becomes a pointer to the question (below), so it keeps the asker's exact bytes
    type: answer?.type ?? 'A',
    class: 'IN' as const,
    ttl: answer?.ttl ?? 0,
    data,
  }));
  if (answer) {
    const direct = addressReply(message, { recursionDesired: rd, ednsPayload: edns ? requested : undefined }, rcode, answer, udpLimit);
    if (direct) return direct;
  }
  const additionals = edns
    ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD, flags: 0, options: [] }]
    : [];
  // Only a one-question query has a question to copy (with none, the bytes after the header are other records).
  const questionEnd = question && message.readUInt16BE(4) === 1 ? endOfQuestion(message) : undefined;
  const encode = (extraFlags: number, records: WireMessage['answers']): Buffer => {
    if (questionEnd === undefined) {
      // A question dns-packet could read but we cannot copy (compressed): its own encoding is the best we have.
      const owner = question?.name ?? '.';
      return encodeMessage({
        id: query.id ?? 0,
        type: 'response',
        flags: flags | extraFlags,
        questions: question ? [question] : [],
        answers: (records ?? []).map((r) => ({ ...r, name: owner })),
        additionals,
      });
    }
    const body = encodeMessage({
      id: query.id ?? 0,
      type: 'response',
      flags: flags | extraFlags,
      questions: [],
      answers: records ?? [],
      additionals,
    });
    return withQuestionOf(message.subarray(12, questionEnd), body, records?.length ?? 0);
  };
  let bytes = encode(0, answers);
  if (udpLimit && bytes.length > limit) bytes = encode(dnsPacket.TRUNCATED_RESPONSE, []);
  return { rcode, bytes };
}

/** An A/AAAA reply written directly (dns-address-reply.ts); undefined when it cannot be, or is too large for UDP. */
function addressReply(
  message: Buffer,
  query: Pick<PlainQuery, 'recursionDesired' | 'ednsPayload'>,
  rcode: ResponseCode,
  answer: RecordedDnsAnswer,
  udpLimit: boolean,
): (Reply & { bytes: Buffer }) | undefined {
  if (answer.type !== 'A' && answer.type !== 'AAAA') return undefined;
  const edns = query.ednsPayload !== undefined;
  const bytes = encodeAddressReply(message, {
    flags: 0x8000 | query.recursionDesired | dnsPacket.RECURSION_AVAILABLE | RCODE_BITS[rcode],
    type: answer.type,
    ttl: answer.ttl,
    addresses: answer.data,
    ednsPayload: edns ? EDNS_PAYLOAD : undefined,
  });
  const limit = edns ? Math.max(512, Math.min(query.ednsPayload ?? 512, EDNS_PAYLOAD)) : 512;
  return bytes && !(udpLimit && bytes.length > limit) ? { rcode, bytes } : undefined;
}

/**
 * Puts the query's question, byte for byte, into a reply encoded without one, and turns each answer's owner (the
 * root, one zero byte) into a pointer to it.
 */
function withQuestionOf(question: Buffer, body: Buffer, answerCount: number): Buffer {
  const parts: Buffer[] = [Buffer.from(body.subarray(0, 12)), question];
  (parts[0] as Buffer).writeUInt16BE(1, 4);
  let offset = 12;
  for (let i = 0; i < answerCount; i += 1) {
    const end = offset + 1 + 10 + body.readUInt16BE(offset + 1 + 8);
    parts.push(POINTER_TO_QUESTION, body.subarray(offset + 1, end));
    offset = end;
  }
  parts.push(body.subarray(offset));
  return Buffer.concat(parts);
}

const POINTER_TO_QUESTION = Buffer.from([0xc0, 12]);

/** FORMERR for a message whose header is readable but whose body is not; undefined when even the header is not. */
function headerOnlyError(message: Buffer): Buffer | undefined {
  if (message.length < 12) return undefined;
  const flags = message.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a (broken) response: never answer responses
  const reply = Buffer.alloc(12);
  reply.writeUInt16BE(message.readUInt16BE(0), 0);
  reply.writeUInt16BE(0x8000 | (flags & 0x7800) | (flags & 0x0100) | RCODE_BITS.FORMERR, 2);
  return reply;
}
