#!/usr/bin/env node
// Time to the first response byte as a plain client sees it: Node's tls/net with no socket options of its own
// (Nagle on, no keep-alive tuning). Three kinds, one JSON line of milliseconds on stdout:
//   hosts: a fresh connection per host name in `hosts` (SNI and Host), each name contacted for the first time
//          (after one connection to `host`, so the server's own cold start is not counted)
//   new:   `count` fresh connections to one name
//   again: one kept-alive connection, `count` requests one after another (time from write to first byte)
// Usage: node first-byte.js '{"port":1,"secure":true,"kind":"new","host":"bench.test","hostPort":80,"path":"/","count":100}'
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';

const o = JSON.parse(process.argv[2]);

function connect(servername, onReady) {
  return o.secure
    ? tls.connect({ host: '127.0.0.1', port: o.port, servername, rejectUnauthorized: false }, onReady)
    : net.connect({ host: '127.0.0.1', port: o.port }, onReady);
}

const request = (name, close) =>
  `GET ${o.path} HTTP/1.1\r\nHost: ${name}:${o.hostPort}\r\nConnection: ${close ? 'close' : 'keep-alive'}\r\n\r\n`;

/** One fresh connection: connect, one GET, first byte. */
function freshMs(name) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const socket = connect(name, () => socket.write(request(name, true)));
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer for ${name} within 10 s`)));
    socket.once('data', (chunk) => {
      const ms = performance.now() - start;
      socket.destroy();
      if (!/^HTTP\/1\.1 200/.test(chunk.toString('latin1')))
        reject(new Error(`${name}: ${chunk.toString('latin1').split('\r\n')[0]}`));
      else resolve(ms);
    });
    socket.once('error', reject);
  });
}

/** `count` requests over one kept-alive connection; the response is read whole (Content-Length) before the next. */
async function againMs(name, count) {
  const socket = await new Promise((resolve, reject) => {
    const s = connect(name, () => resolve(s));
    s.once('error', reject);
  });
  const times = [];
  let buffer = Buffer.alloc(0);
  let waiting;
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    waiting?.(chunk);
  });
  const readResponse = async () => {
    for (;;) {
      const head = buffer.indexOf('\r\n\r\n');
      if (head >= 0) {
        const length = Number(
          /content-length:\s*(\d+)/i.exec(buffer.subarray(0, head).toString('latin1'))?.[1] ?? 0,
        );
        if (buffer.length >= head + 4 + length) {
          buffer = buffer.subarray(head + 4 + length);
          return;
        }
      }
      await new Promise((resolve) => (waiting = resolve));
    }
  };
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const first = buffer.length ? Promise.resolve() : new Promise((resolve) => (waiting = resolve));
    socket.write(request(name, false));
    await first;
    times.push(performance.now() - start);
    await readResponse();
  }
  socket.destroy();
  return times;
}

let times;
if (o.kind === 'hosts') {
  await freshMs(o.host); // outside the sample: the server's first connection at all (JIT, lazy loading)
  times = [];
  for (const name of o.hosts) times.push(await freshMs(name));
} else if (o.kind === 'new') {
  await freshMs(o.host); // outside the sample: the name's certificate and the connection path are warm
  times = [];
  for (let i = 0; i < o.count; i++) times.push(await freshMs(o.host));
} else {
  times = await againMs(o.host, o.count);
}
process.stdout.write(`${JSON.stringify(times)}\n`);
