// Fuzz of the HTTP and HTTPS servers (issue 12): 10,000 malformed HTTP/1.1 requests in plain text and 2,000 over
// TLS, while slowloris connections trickle headers and bodies. Every reply must be a well-formed status line with
// its proper reason phrase, slow connections must be cut by the server, a normal request must be served within
// 10 s throughout (liveness, not speed), and memory must stay bounded. RECALL_FUZZ_SCALE multiplies the counts.
import { STATUS_CODES } from 'node:http';
import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  Archive,
  HTTPSServer,
  HTTPServer,
  PlaybackHTTPClient,
} from '../../lib/recall/index.js';
import { useRecallCa } from '../helpers/recall-ca.js';

const SCALE = Number(process.env.RECALL_FUZZ_SCALE ?? 1);
const PLAIN = Math.round(10_000 * SCALE);
const OVER_TLS = Math.round(2_000 * SCALE);
const SLOW = 60;

const VALID = [
  'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n',
  'POST /form HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhello',
  'POST /chunks HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'GET http://a.test/abs?q=1 HTTP/1.1\r\nHost: a.test\r\n\r\n',
];
const HOSTILE = [
  `GET / HTTP/1.1\r\nHost: a.test\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`,
  'GET / HTTP/9.9\r\nHost: a.test\r\n\r\n',
  'G\u0000T / HTTP/1.1\r\nHost: a.test\r\n\r\n',
  'GET / HTTP/1.1\nHost: a.test\n\n',
  'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
  'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: -1\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a.test\r\nNoColon\r\n\r\n',
  'GET / HTTP/1.1\r\nHost : a.test\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a.test\r\nX-Fold: a\r\n b\r\n\r\n',
  `GET / HTTP/1.1\r\nHost: a.test\r\n${Array.from({ length: 300 }, (_, i) => `X-${i}: v`).join('\r\n')}\r\n\r\n`,
  'GET /valid HTTP/1.1\r\nHost: a.test\r\n\r\n\u0000\u0001garbage\r\n\r\n',
  'POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 999999999999\r\nExpect: 100-continue\r\n\r\n',
  'GET http://[::1/ HTTP/1.1\r\n\r\n',
  'GET / HTTP/1.1\r\n\r\n',
  'CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
];

/** A malformed (or occasionally valid) request: noise, a hostile template, or a valid one mutated. */
function malformed(): Buffer {
  const kind = randomInt(5);
  if (kind === 0) return randomBytes(randomInt(1, 800));
  if (kind === 1) return Buffer.from(HOSTILE[randomInt(HOSTILE.length)]!, 'latin1');
  const bytes = Buffer.from(VALID[randomInt(VALID.length)]!, 'latin1');
  if (kind === 2) {
    for (let i = randomInt(1, 6); i > 0; i -= 1) bytes[randomInt(bytes.length)] = randomInt(256);
    return bytes;
  }
  if (kind === 3) return bytes.subarray(0, randomInt(1, bytes.length));
  return Buffer.concat([bytes, randomBytes(randomInt(1, 200))]);
}

interface Tally {
  replies: number;
  silent: number;
  badStatusLines: string[];
}

/** Sends `bytes` on a fresh connection and checks the first status line of whatever comes back. */
function exchange(connect: () => net.Socket, bytes: Buffer, tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect();
    let text = '';
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => void (text += chunk.toString('latin1')));
    socket.on('close', () => {
      if (text === '') tally.silent += 1;
      else {
        tally.replies += 1;
        const line = /^HTTP\/1\.1 (\d{3}) ([^\r\n]*)\r\n/.exec(text);
        if (!line || STATUS_CODES[Number(line[1])] !== line[2]) tally.badStatusLines.push(text.slice(0, 60));
      }
      resolve();
    });
    socket.write(bytes);
    socket.end();
  });
}

async function pool(count: number, concurrency: number, task: () => Promise<void>): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < count) {
        started += 1;
        await task();
      }
    }),
  );
}

/** Opens slow connections that send one byte every 200 ms (headers, or a body); resolves how many the server cut. */
function slowloris(connect: () => net.Socket, count: number): { cut: () => number; stop: () => void } {
  let cut = 0;
  const sockets = Array.from({ length: count }, (_, i) => {
    const socket = connect();
    socket.on('error', () => undefined);
    socket.on('close', () => (cut += 1));
    socket.write(
      i % 2 === 0
        ? 'GET / HTTP/1.1\r\n'
        : 'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100000\r\n\r\n',
    );
    return socket;
  });
  const timer = setInterval(() => sockets.forEach((s) => s.writable && s.write('x')), 200);
  return {
    cut: () => cut,
    stop: () => {
      clearInterval(timer);
      sockets.forEach((s) => s.destroy());
    },
  };
}

/** A normal request every 500 ms; returns the slowest answer in ms, failing if one takes 10 s. */
function liveness(connect: () => net.Socket): { stop: () => Promise<number> } {
  let slowest = 0;
  let failure: Error | undefined;
  const checks: Array<Promise<void>> = [];
  const timer = setInterval(() => {
    checks.push(
      new Promise<void>((resolve) => {
        const started = performance.now();
        const socket = connect();
        const guard = setTimeout(() => {
          failure = new Error('a normal request was not served within 10 s during the fuzz');
          socket.destroy();
        }, 10_000);
        socket.on('error', () => undefined);
        socket.once('data', () => {
          slowest = Math.max(slowest, performance.now() - started);
          socket.destroy();
        });
        socket.on('close', () => {
          clearTimeout(guard);
          resolve();
        });
        socket.write('GET /alive HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
      }),
    );
  }, 500);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(checks);
      if (failure) throw failure;
      return slowest;
    },
  };
}

describe('HTTP fuzz', () => {
  const recallCa = useRecallCa('recall-fuzz-http-', '/O=Recall Fuzz');

  it(`takes ${PLAIN} malformed requests and ${OVER_TLS} over TLS, with slowloris, and keeps serving`, async () => {
    const exchanger = new PlaybackHTTPClient(Archive.create());
    const timeouts = { headersTimeoutMs: 2000, bodyTimeoutMs: 2000, maxRequestBodyBytes: 1024 * 1024 };
    await using http = new HTTPServer({ exchanger, ...timeouts });
    await using https = new HTTPSServer({ exchanger, certificates: recallCa(), ...timeouts });
    const httpPort = (await http.listen()).port;
    const httpsPort = (await https.listen()).port;
    const plain = (): net.Socket => net.connect(httpPort, '127.0.0.1');
    const secure = (): net.Socket =>
      tls.connect({ port: httpsPort, host: '127.0.0.1', servername: 'a.test', rejectUnauthorized: false });
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const slowPlain = slowloris(plain, SLOW);
    const slowTls = slowloris(secure, SLOW / 3);
    const alive = liveness(plain);
    const aliveTls = liveness(secure);
    const tally: Tally = { replies: 0, silent: 0, badStatusLines: [] };
    await pool(PLAIN, 50, () => exchange(plain, malformed(), tally));
    await pool(OVER_TLS, 10, () => exchange(secure, malformed(), tally));
    const slowest = Math.max(await alive.stop(), await aliveTls.stop());
    // The slow clients are cut by the server's deadlines (2 s), not by the end of the test.
    for (let i = 0; i < 500 && slowPlain.cut() + slowTls.cut() < SLOW + SLOW / 3; i += 1)
      await new Promise((r) => setTimeout(r, 20));
    const cut = slowPlain.cut() + slowTls.cut();
    slowPlain.stop();
    slowTls.stop();
    const seconds = (performance.now() - started) / 1000;
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    console.log(
      `http fuzz: ${PLAIN} plain + ${OVER_TLS} TLS in ${seconds.toFixed(1)} s, ${tally.replies} replies, ${tally.silent} closed silently, ` +
        `${cut}/${SLOW + SLOW / 3} slowloris cut, slowest normal request ${slowest.toFixed(0)} ms, RSS +${rssGrowthMb.toFixed(0)} MB`,
    );
    expect(tally.badStatusLines).toEqual([]);
    expect(tally.replies).toBeGreaterThan(PLAIN / 2);
    expect(cut).toBe(SLOW + SLOW / 3);
    expect(rssGrowthMb).toBeLessThan(300);
    // Nothing stays in flight: the server settles its count when a response finishes, a moment after the client
    // has read it, so it is polled for (bounded) rather than read once.
    for (let i = 0; i < 250 && http.inFlight + https.inFlight > 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(http.inFlight + https.inFlight).toBe(0);
  });
});
