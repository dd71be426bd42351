// Fuzz of the DNS server (issue 12): 100,000 random and mutated packets, over UDP and over TCP framing, against
// the server in playback and in record mode. While they arrive, well-formed probe questions keep being asked and
// must be answered, a TCP query must be answered within 10 s (liveness, not speed), every reply must decode, and
// memory must stay bounded. RECALL_FUZZ_SCALE multiplies the counts (CI default 1).
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchivingDNSClient } from '../../lib/recall/dns/archiving-dns-client.js';
import { DNSClient } from '../../lib/recall/dns/dns-client.js';
import { decodeMessage, frameDnsMessage } from '../../lib/recall/dns/dns-transport.js';
import { PlaybackDNSClient } from '../../lib/recall/dns/playback-dns-client.js';
import type { RecordedDnsAnswer } from '../../lib/recall/dns/dns-types.js';
import { cleanups, runCleanups, server } from '../helpers/dns-tools.js';

afterEach(runCleanups);

const SCALE = Number(process.env.RECALL_FUZZ_SCALE ?? 1);
/** Per mode (playback, record): together the 100,000. */
const PACKETS = Math.round(50_000 * SCALE);
const TCP_SHARE = 0.2;

const NAMES = Array.from({ length: 50 }, (_, i) => `h${i}.fuzz.test`);
const RECORDED: RecordedDnsAnswer[] = NAMES.map((name, i) => ({
  name,
  type: 'A',
  ttl: 60,
  data: [`192.0.2.${i + 1}`],
}));
const TYPES: dnsPacket.RecordType[] = ['A', 'AAAA', 'PTR', 'TXT', 'MX', 'NS', 'SOA', 'CNAME', 'SRV', 'CAA'];

function validQuery(id: number): Buffer {
  const name = NAMES[randomInt(NAMES.length)]!;
  return dnsPacket.encode({
    id,
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: TYPES[randomInt(TYPES.length)]!, class: 'IN' }],
    ...(randomInt(2) === 0
      ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as never] }
      : {}),
  });
}

/** A fuzzed packet: pure noise, or a valid query with bytes flipped, cut, extended or its counts rewritten. */
function fuzzed(): Buffer {
  const kind = randomInt(6);
  if (kind === 0) return randomBytes(randomInt(0, 600));
  const packet = Buffer.from(validQuery(randomInt(65536)));
  if (kind === 1) {
    for (let i = randomInt(1, 8); i > 0; i -= 1) packet[randomInt(packet.length)] = randomInt(256);
    return packet;
  }
  if (kind === 2) return packet.subarray(0, randomInt(packet.length));
  if (kind === 3) return Buffer.concat([packet, randomBytes(randomInt(1, 300))]);
  if (kind === 4) {
    for (const at of [4, 6, 8, 10]) packet.writeUInt16BE(randomInt(65536), at);
    return packet;
  }
  packet.writeUInt16BE(packet.readUInt16BE(2) ^ (1 << randomInt(16)), 2); // a flag or the opcode flipped
  return packet;
}

/** A fast upstream for record mode: echoes the question, A 198.18.0.1 for names starting with `h`, else NXDOMAIN. */
async function upstream(): Promise<number> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  socket.on('message', (message, remote) => {
    const end = message.indexOf(0, 12) + 5;
    if (message.length < 17 || end < 17 || end > message.length) return;
    const head = Buffer.from(message.subarray(0, end));
    const hit = message[13] === 0x68; // 'h'
    head.writeUInt16BE(hit ? 0x8180 : 0x8183, 2);
    head.writeUInt16BE(hit ? 1 : 0, 6);
    head.writeUInt16BE(0, 8);
    head.writeUInt16BE(0, 10);
    const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 1]);
    socket.send(hit ? Buffer.concat([head, answer]) : head, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket.address().port;
}

async function udpClient(onReply: (reply: Buffer) => void): Promise<UdpSocket> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  socket.on('message', onReply);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket;
}

/** One TCP query; resolves with the time to its answer in ms, rejects after 10 s. */
function timedTcpQuery(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(frameDnsMessage(validQuery(7))));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer over TCP within 10 s while the fuzz ran'));
    }, 10_000);
    socket.on('error', () => undefined);
    socket.once('data', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(performance.now() - started);
    });
  });
}

async function fuzzServer(
  port: number,
): Promise<{ probes: number; probeAnswers: number; badReplies: number; slowest: number }> {
  let badReplies = 0;
  const checkReply = (reply: Buffer): void => {
    try {
      decodeMessage(reply);
    } catch {
      badReplies += 1;
    }
  };
  const noise = await udpClient(checkReply);
  const probeIds = new Set<number>();
  let probeAnswers = 0;
  const probe = await udpClient((reply) => {
    checkReply(reply);
    if (probeIds.delete(reply.readUInt16BE(0))) probeAnswers += 1;
  });
  // TCP framing: a few connections, each sent a stream of framed fuzz (and some broken frames).
  const tcp = Array.from({ length: 8 }, () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        checkReply(buffer.subarray(2, 2 + buffer.readUInt16BE(0)));
        buffer = buffer.subarray(2 + buffer.readUInt16BE(0));
      }
    });
    return socket;
  });
  let probes = 0;
  let slowest = 0;
  const liveness: Array<Promise<void>> = [];
  for (let sent = 0; sent < PACKETS; sent += 1) {
    const packet = fuzzed();
    if (Math.random() < TCP_SHARE) {
      const socket = tcp[sent % tcp.length]!;
      if (!socket.destroyed) socket.write(frameDnsMessage(packet));
    } else noise.send(packet, port, '127.0.0.1');
    if (sent % 100 === 0) {
      const id = probes % 65536;
      probeIds.add(id);
      probes += 1;
      probe.send(validQuery(id), port, '127.0.0.1');
    }
    if (sent % 5000 === 0)
      liveness.push(timedTcpQuery(port).then((ms) => void (slowest = Math.max(slowest, ms))));
    // Paced: libuv reads at most 32 datagrams per socket per loop turn, and sender and server share this loop.
    if (sent % 25 === 24) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(liveness);
  for (let i = 0; i < 300 && probeIds.size > 0; i += 1) await new Promise((r) => setTimeout(r, 10));
  for (const socket of tcp) socket.destroy();
  return { probes, probeAnswers, badReplies, slowest };
}

describe('DNS fuzz', () => {
  for (const mode of ['playback', 'record'] as const) {
    it(`takes ${PACKETS} random and mutated packets over UDP and TCP in ${mode} mode and keeps answering`, async () => {
      const resolver =
        mode === 'playback'
          ? new PlaybackDNSClient(RECORDED)
          : new ArchivingDNSClient(
              new DNSClient({ servers: [{ host: '127.0.0.1', port: await upstream() }], timeoutMs: 1000 }),
            );
      const dns = await server({ resolver, resolveTimeoutMs: 3000 });
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      const started = performance.now();
      const result = await fuzzServer(dns.port);
      const seconds = (performance.now() - started) / 1000;
      const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
      console.log(
        `dns fuzz ${mode}: ${PACKETS} packets in ${seconds.toFixed(1)} s, ${result.probeAnswers}/${result.probes} probes answered, ` +
          `slowest TCP liveness query ${result.slowest.toFixed(0)} ms, RSS +${rssGrowthMb.toFixed(0)} MB, stats ${JSON.stringify(dns.stats)}`,
      );
      expect(result.badReplies).toBe(0);
      expect(result.probeAnswers).toBeGreaterThanOrEqual(Math.floor(result.probes * 0.99));
      expect(rssGrowthMb).toBeLessThan(300);
      // Still answering afterwards, over both transports.
      expect(await timedTcpQuery(dns.port)).toBeGreaterThan(0);
      const after = await new Promise<Buffer | undefined>((resolve) => {
        void udpClient((reply) => resolve(reply)).then((socket) =>
          socket.send(validQuery(9), dns.port, '127.0.0.1'),
        );
        setTimeout(() => resolve(undefined), 3000);
      });
      expect(after).toBeDefined();
    });
  }
});
