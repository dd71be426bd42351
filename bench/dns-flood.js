#!/usr/bin/env node
// DNS under a UDP flood: what share of queries sent at a fixed rate gets an answer. Issue 12 measured 11% at
// 17k packets/s while recording. The server runs in its own process on core 0, the flood (and, for record mode,
// a minimal upstream) on core 1; each mode runs `rounds` times and the median is reported.
//
//   node bench/dns-flood.js [--rate 17000] [--seconds 3] [--rounds 3] [--dist DIR]...
//
// --dist (repeatable) names builds to compare, e.g. this dist/ and the dist/ of an older checkout: their rounds are
// interleaved, so load from other jobs on a shared machine hits each alike.
// modes: replay (PlaybackDNSClient, 1000 recorded names cycled), record (ArchivingDNSClient over DNSClient to a
// local upstream; every query a new name, so every one is a first lookup: the worst case), and noise (replay, with
// 9 of every 10 packets random bytes from another socket; the share is of the real queries answered).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '17000' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    dist: { type: 'string', multiple: true, default: [fileURLToPath(new URL('../dist', import.meta.url))] },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const dists = values.dist.map((d) => resolve(d));

/** The server process: prints its port, runs until stdin closes. */
const SERVER = `
const [dist, mode, answersFile, upstreamPort] = process.argv.slice(1);
const { readFileSync } = await import('node:fs');
const recall = await import(dist + '/lib/recall/index.js');
const dnsClient = await import(dist + '/lib/recall/dns/dns-client.js');
const archiving = await import(dist + '/lib/recall/dns/archiving-dns-client.js');
const resolver = mode === 'replay'
  ? new recall.PlaybackDNSClient(JSON.parse(readFileSync(answersFile, 'utf8')))
  : new archiving.ArchivingDNSClient(new dnsClient.DNSClient({ servers: [{ host: '127.0.0.1', port: Number(upstreamPort) }] }));
const dns = await recall.DNSServer.start({ resolver, host: '127.0.0.1', port: 0 });
process.stdout.write(dns.port + '\\n');
process.stdin.resume();
process.stdin.on('end', async () => { await dns.close(); process.exit(0); });
`;

/** A minimal upstream for record mode: NOERROR with one A record for any question, at once. */
const UPSTREAM = `
const { createSocket } = await import('node:dgram');
const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
socket.on('message', (m, r) => {
  const end = m.indexOf(0, 12) + 5;
  if (end < 17 || end > m.length) return;
  const head = Buffer.from(m.subarray(0, end));
  head.writeUInt16BE(0x8180, 2); head.writeUInt16BE(1, 6); head.writeUInt16BE(0, 8); head.writeUInt16BE(0, 10);
  socket.send(Buffer.concat([head, Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 1])]), r.port, r.address);
});
socket.bind(0, '127.0.0.1', () => process.stdout.write(socket.address().port + '\\n'));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

function startScript(core, source, args) {
  const child = spawn(
    'taskset',
    [
      '-c',
      String(core),
      process.execPath,
      ...(process.env.DNS_FLOOD_PROF && source === SERVER
        ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.DNS_FLOOD_PROF]
        : []),
      '--input-type=module',
      '-e',
      source,
      ...args,
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const port = new Promise((resolvePort, reject) => {
    let text = '';
    child.stdout.on('data', (c) => {
      text += c;
      if (text.includes('\n')) resolvePort(Number(text.trim()));
    });
    child.on('exit', (code) => reject(new Error(`bench process exited (${code}) before it listened`)));
  });
  return { child, port, stop: () => child.stdin.end() };
}

function query(id, name) {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/**
 * Sends `rate` packets a second for `seconds`, then waits 1 s for stragglers; returns the share of real queries
 * answered. With `noise`, 9 of 10 packets are random bytes, sent from a socket of their own.
 */
async function flood(port, nameOf, noise) {
  const sockets = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const socket = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
      await new Promise((r) => socket.bind(0, '127.0.0.1', r));
      return socket;
    }),
  );
  const answered = new Set();
  sockets
    .slice(0, 3)
    .forEach((socket, s) => socket.on('message', (m) => answered.add(s * 65536 + m.readUInt16BE(0))));
  const total = rate * seconds;
  const started = performance.now();
  let sent = 0;
  let real = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent += 1) {
      if (noise && sent % 10 !== 0) {
        sockets[3].send(randomBytes(12 + (sent % 300)), port, '127.0.0.1');
        continue;
      }
      const s = real % 3;
      const id = Math.floor(real / 3) % 65536;
      sockets[s].send(query(id, nameOf(real)), port, '127.0.0.1');
      real += 1;
    }
    await new Promise((r) => setTimeout(r, 1)); // not setImmediate: a busy loop would starve the upstream on this core
  }
  await new Promise((r) => setTimeout(r, 1000));
  for (const socket of sockets) socket.close();
  return { sent: real, answered: answered.size, share: answered.size / real };
}

const dir = mkdtempSync(join(tmpdir(), 'dns-flood-'));
const names = Array.from({ length: 1000 }, (_, i) => `h${i}.flood-bench.test`);
const answersFile = join(dir, 'answers.json');
writeFileSync(
  answersFile,
  JSON.stringify(
    names.map((name, i) => ({ name, type: 'A', ttl: 300, data: [`198.18.${i >> 8}.${i & 255}`] })),
  ),
);
const shares = {};
try {
  for (let round = 0; round < rounds; round += 1) {
    for (const mode of ['replay', 'record', 'noise']) {
      for (const dist of dists) {
        const upstream = mode === 'record' ? startScript(1, UPSTREAM, []) : undefined;
        const serverMode = mode === 'noise' ? 'replay' : mode;
        const server = startScript(0, SERVER, [
          dist,
          serverMode,
          answersFile,
          String((await upstream?.port) ?? 0),
        ]);
        const port = await server.port;
        const tag = `r${round}-${Date.now()}`;
        const nameOf = mode === 'record' ? (i) => `n${i}.${tag}.test` : (i) => names[i % 1000];
        const result = await flood(port, nameOf, mode === 'noise');
        (shares[`${mode} ${dist}`] ??= []).push(result.share);
        console.log(
          `round ${round + 1} ${mode} ${dist}: ${result.answered} of ${result.sent} answered (${(result.share * 100).toFixed(1)}%)`,
        );
        server.stop();
        upstream?.stop();
        await new Promise((r) => server.child.once('exit', r));
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
for (const dist of dists) {
  const of = (mode) => `${(median(shares[`${mode} ${dist}`]) * 100).toFixed(1)}%`;
  console.log(
    `dns flood at ${rate} packets/s for ${seconds} s, median of ${rounds}: replay ${of('replay')} answered, record ${of('record')}, real queries among 90% noise ${of('noise')} (${dist})`,
  );
}
