#!/usr/bin/env node
// Time to the first response byte on fresh HTTPS connections to HTTPSServer (playback of one small page), with a
// client that sets no socket options of its own (Node's tls.connect: Nagle on). Issue 18 measured 46.6 ms against
// nginx's 3.8: the HTTPS listener never set no-delay on its sockets, so the server's last handshake flight and the
// response waited for the client's delayed ACK. Server on core 0, client on core 1; builds compared in
// interleaved rounds.
//
//   node bench/https-ttfb.js [--count 200] [--rounds 3] [--tls12] [--dist DIR]...
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    tls12: { type: 'boolean', default: false },
    dist: { type: 'string', multiple: true, default: [fileURLToPath(new URL('../dist', import.meta.url))] },
  },
});
const count = Number(values.count);
const rounds = Number(values.rounds);
const dists = values.dist.map((d) => resolve(d));
/** --tls12: TLS 1.2, whose handshake ends with a server flight the response can queue behind. */
const tlsVersion = values.tls12 ? { maxVersion: 'TLSv1.2' } : {};

const SERVER = `
const [dist, caDir] = process.argv.slice(1);
const recall = await import(dist + '/lib/recall/index.js');
const exchanger = {
  exchange: async () => ({ status: 200, statusText: 'OK', httpVersion: '1.1',
    headers: [['Content-Type', 'text/plain'], ['Content-Length', '2']],
    body: { bytes: Buffer.from('ok'), async *[Symbol.asyncIterator]() { yield Buffer.from('ok'); } } }),
  close: async () => {},
};
const ca = await recall.CertificateAuthority.open('/O=Recall TTFB Bench', { dir: caDir });
const https = new recall.HTTPSServer({ exchanger, certificates: ca, port: 0 });
process.stdout.write((await https.listen()).port + '\\n');
process.stdin.resume();
process.stdin.on('end', async () => { await https.close(); await ca.close(); process.exit(0); });
`;

function startServer(dist, caDir) {
  const child = spawn(
    'taskset',
    ['-c', '0', process.execPath, '--input-type=module', '-e', SERVER, dist, caDir],
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
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before it listened`)));
  });
  return { child, port, stop: () => child.stdin.end() };
}

function firstByteMs(port) {
  return new Promise((resolveMs, reject) => {
    const start = performance.now();
    const socket = tls.connect(
      { host: '127.0.0.1', port, servername: 'ttfb.test', rejectUnauthorized: false, ...tlsVersion },
      () => socket.write('GET / HTTP/1.1\r\nHost: ttfb.test\r\nConnection: close\r\n\r\n'),
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.once('data', () => {
      resolveMs(performance.now() - start);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const samples = {};
for (let round = 0; round < rounds; round += 1) {
  for (const dist of dists) {
    const caDir = mkdtempSync(join(tmpdir(), 'ttfb-ca-'));
    const server = startServer(dist, caDir);
    try {
      const port = await server.port;
      await firstByteMs(port); // the certificate is minted once, outside the sample
      const times = [];
      for (let i = 0; i < count; i += 1) times.push(await firstByteMs(port));
      (samples[dist] ??= []).push(median(times));
      console.log(
        `round ${round + 1} ${dist}: p50 ${median(times).toFixed(2)} ms over ${count} fresh connections`,
      );
    } finally {
      server.stop();
      await new Promise((r) => server.child.once('exit', r));
      rmSync(caDir, { recursive: true, force: true });
    }
  }
}
for (const dist of dists)
  console.log(
    `https ttfb, fresh connection, median of ${rounds} rounds: p50 ${median(samples[dist]).toFixed(2)} ms (${dist})`,
  );
