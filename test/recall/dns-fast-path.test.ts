// The playback fast path: plain A/AAAA queries read without dns-packet, replies kept for repeated queries, and no
// abort signal per query. Each must answer exactly what the general path answers, and lose nothing it did: miss
// counts, HIT lines, the query's id and spelling.
import { Writable } from 'node:stream';
import dnsPacket from 'dns-packet';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/logging.js';
import { DeadlineSignals } from '../../lib/recall/deadline-signals.js';
import { answerMessage, type AnswerContext, type Reply } from '../../lib/recall/dns/dns-answerer.js';
import { readPlainQuery } from '../../lib/recall/dns/dns-plain-query.js';
import { DnsReplyCache } from '../../lib/recall/dns/dns-reply-cache.js';
import { decodeMessage, type WireMessage } from '../../lib/recall/dns/dns-transport.js';
import type { DnsQuestion, DnsResolver, RecordedDnsAnswer } from '../../lib/recall/dns/dns-types.js';
import { NameMap } from '../../lib/recall/dns/name-map.js';
import { PlaybackDNSClient } from '../../lib/recall/dns/playback-dns-client.js';
import { dig, runCleanups, server, udpExchange } from '../helpers/dns-tools.js';

afterEach(runCleanups);

const RECORDED: RecordedDnsAnswer[] = [
  { name: 'www.example.test', type: 'A', ttl: 300, data: ['192.0.2.1', '192.0.2.2'] },
  { name: 'www.example.test', type: 'AAAA', ttl: 60, data: ['2001:db8::1'] },
  { name: 'v4only.example.test', type: 'A', ttl: 77, data: ['192.0.2.20'] },
  { name: 'big.example.test', type: 'A', ttl: 120, data: Array.from({ length: 60 }, (_, i) => `192.0.2.${i + 1}`) },
  { name: 'gone.example.test', type: 'A', ttl: 30, data: [], rcode: 'NXDOMAIN' },
];

type Opt = { udpPayloadSize: number; options?: Array<{ code: number; data: Buffer }> };
function encodeQuery(name: string, type: 'A' | 'AAAA' | 'TXT', { id = 7, rd = true, opt }: { id?: number; rd?: boolean; opt?: Opt } = {}): Buffer {
  return dnsPacket.encode({
    id,
    type: 'query',
    flags: rd ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ name, type, class: 'IN' }],
    additionals: opt ? [{ type: 'OPT', name: '.', udpPayloadSize: opt.udpPayloadSize, flags: 0, options: opt.options ?? [] } as never] : [],
  });
}

function context(resolver: DnsResolver, extra: Partial<AnswerContext> = {}): AnswerContext {
  const deadlines = new DeadlineSignals(1000, () => new Error('late'));
  return { resolver, nameMap: new NameMap(), redirect: undefined, deadline: deadlines.next(), logger: silentLogger, ...extra };
}

function syncReply(reply: Reply | Promise<Reply>): Reply {
  if (reply instanceof Promise) throw new Error('playback answers synchronously');
  return reply;
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('plain queries', () => {
  it('reads A/AAAA queries with or without an OPT record, and leaves everything else to the general decoder', () => {
    expect(readPlainQuery(encodeQuery('www.example.test', 'A'))).toEqual({ type: 'A', nameEnd: 30, recursionDesired: 0x100, ednsPayload: undefined });
    const cookie = { code: 10, data: Buffer.alloc(8, 1) };
    expect(readPlainQuery(encodeQuery('WWW.example.test', 'AAAA', { rd: false, opt: { udpPayloadSize: 4096, options: [cookie] } }))).toEqual({
      type: 'AAAA',
      nameEnd: 30,
      recursionDesired: 0,
      ednsPayload: 4096,
    });
    const plain = encodeQuery('www.example.test', 'A');
    expect(readPlainQuery(encodeQuery('www.example.test', 'TXT'))).toBeUndefined();
    expect(readPlainQuery(Buffer.concat([plain, Buffer.from([0])]))).toBeUndefined(); // a byte left over
    expect(readPlainQuery(encodeQuery('x.test', 'A', { opt: { udpPayloadSize: 1232, options: [{ code: 8, data: Buffer.from([0, 1, 24, 0, 192, 0, 2]) }] } }))).toBeUndefined();
    const response = Buffer.from(plain);
    response[2] = (response[2] as number) | 0x80;
    expect(readPlainQuery(response)).toBeUndefined();
    const chaos = Buffer.from(plain);
    chaos.writeUInt16BE(3, plain.length - 2); // class CH
    expect(readPlainQuery(chaos)).toBeUndefined();
  });

  it('accepts only messages dns-packet decodes to the same question (100,000 mutated and random packets)', () => {
    const next = random(18);
    const seeds = [
      encodeQuery('www.example.test', 'A'),
      encodeQuery('a.b', 'AAAA', { opt: { udpPayloadSize: 512 } }),
      encodeQuery('x.example.test', 'A', { opt: { udpPayloadSize: 1400, options: [{ code: 10, data: Buffer.alloc(8, 2) }] } }),
    ];
    let accepted = 0;
    for (let i = 0; i < 100_000; i += 1) {
      let packet: Buffer;
      if (i % 4 === 0) {
        packet = Buffer.from(Array.from({ length: 12 + Math.floor(next() * 40) }, () => Math.floor(next() * 256)));
        packet.writeUInt16BE(1, 4); // random bodies behind a one-question header, so some get far
        if (i % 8 === 0) packet.writeUInt32BE(0, 6);
      } else {
        packet = Buffer.from(seeds[i % seeds.length] as Buffer);
        for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips -= 1) {
          packet[Math.floor(next() * packet.length)] = Math.floor(next() * 256);
        }
      }
      const plain = readPlainQuery(packet);
      if (!plain) continue;
      accepted += 1;
      const decoded: WireMessage = decodeMessage(packet); // throws: the fast path took what the decoder refuses
      const opt = decoded.additionals?.find((r) => r.type === 'OPT');
      expect({
        type: decoded.type,
        opcode: decoded.opcode,
        questions: decoded.questions?.map((q) => [q.type, q.class]),
        others: (decoded.answers?.length ?? 0) + (decoded.authorities?.length ?? 0),
        additionals: decoded.additionals?.length,
        rd: (decoded.flags ?? 0) & dnsPacket.RECURSION_DESIRED,
        ednsPayload: opt?.udpPayloadSize,
      }).toEqual({
        type: 'query',
        opcode: 'QUERY',
        questions: [[plain.type, 'IN']],
        others: 0,
        additionals: plain.ednsPayload === undefined ? 0 : 1,
        rd: plain.recursionDesired,
        ednsPayload: plain.ednsPayload,
      });
    }
    expect(accepted).toBeGreaterThan(1000); // the mutations left many plain queries to check
  });

  it('answers a plain query with the bytes the general path gives (a byte left over sends a query there)', () => {
    const resolver = new PlaybackDNSClient(RECORDED);
    const queries = [
      encodeQuery('www.example.test', 'A'),
      encodeQuery('WwW.ExAmPlE.tEsT', 'A', { id: 0xbeef, rd: false }),
      encodeQuery('www.example.test', 'AAAA', { opt: { udpPayloadSize: 4096 } }),
      encodeQuery('v4only.example.test', 'AAAA'), // NODATA
      encodeQuery('gone.example.test', 'A'), // NXDOMAIN, recorded
      encodeQuery('never.example.test', 'A'), // NXDOMAIN, a miss
      encodeQuery('big.example.test', 'A'), // too large for 512 bytes: truncated over UDP
      encodeQuery('big.example.test', 'A', { opt: { udpPayloadSize: 1232, options: [{ code: 10, data: Buffer.alloc(8) }] } }),
    ];
    for (const redirect of [undefined, { ipv4: '198.18.0.1' }]) {
      for (const udp of [true, false]) {
        for (const query of queries) {
          expect(readPlainQuery(query)).toBeDefined();
          const fast = syncReply(answerMessage(query, udp, context(resolver, { redirect })));
          const general = syncReply(answerMessage(Buffer.concat([query, Buffer.from([0])]), udp, context(resolver, { redirect })));
          expect(fast.rcode).toBe(general.rcode);
          expect(fast.bytes?.toString('hex')).toBe(general.bytes?.toString('hex'));
        }
      }
    }
  });
});

describe('replies kept for repeated queries', () => {
  /** A resolver that counts its questions and says its answers never change. */
  function countingResolver(): DnsResolver & { asked: string[] } {
    const asked: string[] = [];
    return {
      asked,
      resolve(question: DnsQuestion): RecordedDnsAnswer {
        asked.push(question.name);
        return { name: question.name.toLowerCase(), type: question.type, ttl: 300, data: ['192.0.2.9'] };
      },
      answersAgain: () => true,
    };
  }

  it('answers a repeated query without asking the resolver, with each query\'s id and spelling', async () => {
    const resolver = countingResolver();
    const dns = await server({ resolver });
    for (let id = 1; id <= 20; id += 1) {
      const name = id % 2 === 0 ? 'Again.Example.Test' : 'again.example.test';
      const reply = await udpExchange(dns.port, encodeQuery(name, 'A', { id }));
      expect(reply).toBeDefined();
      const decoded = decodeMessage(reply as Buffer);
      expect(decoded.id).toBe(id);
      expect(decoded.questions?.[0]?.name).toBe(name);
      expect((decoded.answers ?? []).map((a) => [a.name, a.data])).toEqual([[name, '192.0.2.9']]);
    }
    expect(resolver.asked).toEqual(['again.example.test', 'Again.Example.Test']);
    expect(dns.stats.NOERROR).toBe(20);
  });

  it('keeps only replies that fit any UDP limit, and answers TCP from the same replies', async () => {
    const asked: string[] = [];
    const many = Array.from({ length: 60 }, (_, i) => `192.0.2.${i + 1}`);
    const resolver: DnsResolver = {
      resolve(question: DnsQuestion): RecordedDnsAnswer {
        asked.push(question.name);
        return { name: question.name, type: question.type, ttl: 60, data: question.name === 'many.example.test' ? many : ['192.0.2.9'] };
      },
      answersAgain: () => true,
    };
    const dns = await server({ resolver });
    for (let id = 1; id <= 2; id += 1) {
      const reply = decodeMessage((await udpExchange(dns.port, encodeQuery('many.example.test', 'A', { id }))) as Buffer);
      expect(reply.flag_tc).toBe(true); // 60 addresses do not fit 512 bytes
    }
    for (let i = 0; i < 2; i += 1) {
      const small = await dig(dns.port, 'one.example.test', 'A', '+tcp');
      expect(small.answers.map((a) => a.data)).toEqual(['192.0.2.9']);
    }
    const large = await dig(dns.port, 'many.example.test', 'A', '+tcp');
    expect(large.answers).toHaveLength(60);
    expect(asked).toEqual(['many.example.test', 'many.example.test', 'one.example.test', 'many.example.test']);
  });

  it('still asks playback for every miss (each is counted) and for every hit when HIT lines are logged', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const playback = new PlaybackDNSClient(RECORDED, { logger: pino({ level: 'debug' }, sink) });
    const dns = await server({ resolver: playback });
    for (let id = 1; id <= 5; id += 1) {
      await udpExchange(dns.port, encodeQuery('www.example.test', 'A', { id }));
      await udpExchange(dns.port, encodeQuery('missing.example.test', 'A', { id }));
    }
    expect(playback.missCount).toBe(5);
    expect(lines.filter((l) => l.includes('"msg":"HIT"'))).toHaveLength(5);

    const quiet = new PlaybackDNSClient(RECORDED);
    const second = await server({ resolver: quiet });
    for (let id = 1; id <= 5; id += 1) {
      const reply = await udpExchange(second.port, encodeQuery('missing.example.test', 'A', { id }));
      expect(decodeMessage(reply as Buffer).rcode).toBe('NXDOMAIN');
    }
    expect(quiet.missCount).toBe(5);
  });

  it('holds at most its limit, whatever the clients send', () => {
    const cache = new DnsReplyCache<'NOERROR'>(100);
    for (let i = 0; i < 250; i += 1) {
      const query = encodeQuery(`n${i}.example.test`, 'A');
      const plain = readPlainQuery(query);
      if (!plain) throw new Error('a plain query');
      cache.store(query, plain, { rcode: 'NOERROR', bytes: Buffer.from(query) });
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    const last = encodeQuery('n249.example.test', 'A', { id: 99 });
    expect(cache.replyTo(last)?.bytes.readUInt16BE(0)).toBe(99);
    expect(cache.replyTo(Buffer.concat([last, Buffer.from([0])]))).toBeUndefined(); // not a plain query
  });
});

describe('deadlines in playback', () => {
  it('makes no abort signal for queries answered at once', async () => {
    const Original = globalThis.AbortController;
    let made = 0;
    globalThis.AbortController = class extends Original {
      constructor() {
        super();
        made += 1;
      }
    };
    try {
      const dns = await server({ resolver: new PlaybackDNSClient(RECORDED), nameMap: new NameMap() });
      for (let id = 1; id <= 50; id += 1) {
        const name = id % 2 ? 'www.example.test' : 'missing.example.test';
        expect(await udpExchange(dns.port, encodeQuery(name, id % 3 ? 'A' : 'TXT', { id }))).toBeDefined();
      }
      expect(dns.stats.queries).toBe(50);
    } finally {
      globalThis.AbortController = Original;
    }
    expect(made).toBe(0);
  });
});
