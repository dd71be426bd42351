#!/usr/bin/env node
// Time to first byte over fresh TLS connections, alternating a never-seen server name (the server must mint a
// certificate) with an already-seen one (its certificate is cached), so the difference is the minting cost.
// Usage: node ttfb.js '{"port":1,"host":"bench.test:80","path":"/favicon.ico","count":100,"suffix":"run1.mint.test"}'
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';

const o = JSON.parse(process.argv[2]);

function firstByteMs(servername) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const socket = tls.connect(
      { host: '127.0.0.1', port: o.port, servername, rejectUnauthorized: false },
      () => {
        socket.write(`GET ${o.path} HTTP/1.1\r\nHost: ${o.host}\r\nConnection: close\r\n\r\n`);
      },
    );
    let subject = '';
    socket.once('secureConnect', () => {
      subject = socket.getPeerCertificate()?.subject?.CN ?? '';
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer for ${servername} within 10 s`)));
    socket.once('data', (chunk) => {
      const ms = performance.now() - start;
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(chunk.toString('latin1'))?.[1]);
      socket.destroy();
      resolve({ ms, status, subject });
    });
    socket.once('error', reject);
  });
}

const known = `known.${o.suffix}`;
await firstByteMs(known);
await firstByteMs(known);
const fresh = [];
const cached = [];
let wrongSubject = 0;
let non200 = 0;
for (let i = 0; i < o.count; i++) {
  const name = `n${i}.${o.suffix}`;
  const a = await firstByteMs(name);
  const b = await firstByteMs(known);
  if (a.subject !== name) wrongSubject++;
  if (a.status !== 200 || b.status !== 200) non200++;
  fresh.push(a.ms);
  cached.push(b.ms);
}
process.stdout.write(`${JSON.stringify({ fresh, cached, wrongSubject, non200 })}\n`);
