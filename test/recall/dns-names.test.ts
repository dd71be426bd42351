// Names that dns-packet's text form cannot carry: labels of non-ASCII bytes, a dot inside a label, the root.
// Replies must repeat the question's exact bytes, and recording must ask the upstream for exactly that name.
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchivingDNSClient } from '../../lib/recall/dns/archiving-dns-client.js';
import { DNSClient } from '../../lib/recall/dns/dns-client.js';
import { PlaybackDNSClient } from '../../lib/recall/dns/playback-dns-client.js';
import { textOfWireName, wireOfName } from '../../lib/recall/dns/dns-name.js';
import type { RecordedDnsAnswer } from '../../lib/recall/dns/dns-types.js';
import { decodeMessage } from '../../lib/recall/dns/dns-transport.js';
import { cleanups, dig, runCleanups, server, udpExchange } from '../helpers/dns-tools.js';

afterEach(runCleanups);

const TYPE_CODES = { A: 1, NS: 2, TXT: 16 } as const;

/** A query whose question name is the given wire bytes. */
function rawQuery(wireName: Buffer, type: keyof typeof TYPE_CODES, id = 0x1234): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(TYPE_CODES[type], 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, wireName, tail]);
}

const ffLabel = Buffer.concat([
  Buffer.from([63]),
  Buffer.alloc(63, 0xff),
  Buffer.from([4]),
  Buffer.from('test'),
  Buffer.from([0]),
]);
const dottedLabel = Buffer.concat([
  Buffer.from([3]),
  Buffer.from('a.b'),
  Buffer.from([4]),
  Buffer.from('test'),
  Buffer.from([0]),
]);

/**
 * A byte-exact upstream (dns-packet would re-split names at dots): answers A 192.0.2.77 for exactly the names in
 * `known` (wire bytes, compared as bytes), NXDOMAIN for anything else, and echoes the question as received.
 */
async function exactUpstream(known: Buffer[]): Promise<{ port: number; asked: Buffer[] }> {
  const socket = createSocket('udp4');
  const asked: Buffer[] = [];
  socket.on('message', (message, remote) => {
    const nameEnd = message.indexOf(0, 12) + 1;
    const name = message.subarray(12, nameEnd);
    asked.push(Buffer.from(name));
    const type = message.readUInt16BE(nameEnd);
    const hit = known.some((k) => k.equals(name));
    const header = Buffer.from(message.subarray(0, 12));
    header.writeUInt16BE(0x8180 | (hit ? 0 : 3), 2);
    const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 77]);
    const withAnswer = hit && type === 1;
    header.writeUInt16BE(withAnswer ? 1 : 0, 6);
    header.writeUInt16BE(0, 10);
    const reply = Buffer.concat([
      header,
      message.subarray(12, nameEnd + 4),
      withAnswer ? answer : Buffer.alloc(0),
    ]);
    socket.send(reply, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { port: socket.address().port, asked };
}

function questionBytes(message: Buffer): Buffer {
  const nameEnd = message.indexOf(0, 12) + 1;
  return message.subarray(12, nameEnd + 4);
}

describe('DNS names byte for byte', () => {
  it('reads and writes names in presentation form and back without loss', () => {
    expect(textOfWireName(dottedLabel, 0)).toBe('a\\.b.test');
    expect(wireOfName('a\\.b.test')).toEqual(dottedLabel);
    expect(textOfWireName(ffLabel, 0)).toBe(`${'\\255'.repeat(63)}.test`);
    expect(wireOfName(textOfWireName(ffLabel, 0))).toEqual(ffLabel);
    expect(wireOfName('')).toEqual(Buffer.from([0]));
    expect(wireOfName('.')).toEqual(Buffer.from([0]));
    expect(wireOfName(`${'x'.repeat(64)}.test`)).toBeUndefined();
  });

  it('answers a label of 0xFF bytes with the question exactly as asked (playback)', async () => {
    const player = await server({ resolver: new PlaybackDNSClient([]) });
    for (const type of ['TXT', 'A', 'NS'] as const) {
      const asked = rawQuery(ffLabel, type);
      const reply = await udpExchange(player.port, asked);
      expect(reply).toBeDefined();
      expect(questionBytes(reply!)).toEqual(questionBytes(asked));
      expect(reply!.readUInt16BE(2) & 0xf).toBe(3); // NXDOMAIN: nothing recorded
    }
  });

  it('records a name with a dot inside a label as that name, and answers with its exact bytes', async () => {
    const upstream = await exactUpstream([dottedLabel, ffLabel]);
    const sink: RecordedDnsAnswer[] = [];
    const recorder = await server({
      resolver: new ArchivingDNSClient(
        new DNSClient({
          servers: [{ host: '127.0.0.1', port: upstream.port }],
          timeoutMs: 1000,
          attempts: 1,
        }),
        { sink },
      ),
    });
    for (const name of [dottedLabel, ffLabel]) {
      const asked = rawQuery(name, 'A');
      const reply = await udpExchange(recorder.port, asked, 3000);
      expect(questionBytes(reply!)).toEqual(questionBytes(asked));
      const decoded = decodeMessage(reply!);
      expect(decoded.rcode).toBe('NOERROR');
      expect(decoded.answers?.map((a) => a.data)).toEqual(['192.0.2.77']);
    }
    expect(upstream.asked).toEqual([dottedLabel, ffLabel]);
    expect(sink.map((a) => a.name)).toEqual(['a\\.b.test', `${'\\255'.repeat(63)}.test`]);

    const player = await server({
      resolver: new PlaybackDNSClient(JSON.parse(JSON.stringify(sink)) as RecordedDnsAnswer[]),
    });
    const replayed = await udpExchange(player.port, rawQuery(dottedLabel, 'A'));
    expect(decodeMessage(replayed!).answers?.map((a) => a.data)).toEqual(['192.0.2.77']);
  });

  it('answers root questions in record mode from the upstream, not SERVFAIL', async () => {
    const upstream = await exactUpstream([Buffer.from([0])]);
    const recorder = await server({
      resolver: new ArchivingDNSClient(
        new DNSClient({
          servers: [{ host: '127.0.0.1', port: upstream.port }],
          timeoutMs: 1000,
          attempts: 1,
        }),
      ),
      resolveTimeoutMs: 3000,
    });
    const ns = await dig(recorder.port, '.', 'NS');
    expect(ns.status).toBe('NOERROR');
    const a = await dig(recorder.port, '.', 'A');
    expect(a).toMatchObject({ status: 'NOERROR', answers: [{ name: '.', type: 'A', data: '192.0.2.77' }] });
  });
});

describe('DNS replies without a question to copy', () => {
  it('answers a query with no question but an OPT record FORMERR, claiming no question', async () => {
    const player = await server({ resolver: new PlaybackDNSClient([]) });
    const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 1]); // QDCOUNT 0, ARCOUNT 1
    const opt = Buffer.from([0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]); // root, OPT, 4096, no options
    const reply = await udpExchange(player.port, Buffer.concat([header, opt]));
    expect(reply).toBeDefined();
    expect(reply!.readUInt16BE(2) & 0xf).toBe(1); // FORMERR
    expect(reply!.readUInt16BE(4)).toBe(0); // no question
    expect(decodeMessage(reply!).questions).toEqual([]);
  });
});
