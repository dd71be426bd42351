#!/usr/bin/env node
// Cost of a new upstream HTTPS connection while recording with an extra CA (issue 18): HTTPClient (one secure
// context built at construction) against what it did before, a request with `ca` = system roots + the extra CA
// (Node builds a new context from ~150 roots per connection). The origin closes every connection, so each
// request is a new connection and handshake. Prints the median ms per request of each, interleaved rounds.
//   node bench/upstream-context.js [--count 50] [--rounds 3]
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { CertificateAuthority, HTTPClient } from '../dist/lib/recall/index.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '50' }, rounds: { type: 'string', default: '3' } },
});
const count = Number(values.count);
const dir = mkdtempSync(join(tmpdir(), 'upstream-context-'));
const ca = await CertificateAuthority.open('/O=Upstream Context Bench', { dir });
const leaf = await ca.certificateFor('up.test');
const origin = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_req, res) => {
  res.writeHead(200, { connection: 'close', 'content-length': '2' });
  res.end('ok');
});
await new Promise((r) => origin.listen(0, '127.0.0.1', r));
const { port } = origin.address();
const lookup = (_h, o, cb) =>
  o?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
const extraCa = ca.rootCertificatePem;

const client = new HTTPClient({ extraCAs: [extraCa], lookup, allowLocalUpstreams: true });
const ours = async () => {
  const response = await client.exchange({
    method: 'GET',
    scheme: 'https',
    host: `up.test:${port}`,
    target: '/',
    httpVersion: '1.1',
    headers: [['Host', `up.test:${port}`]],
    body: Buffer.alloc(0),
  });
  for await (const chunk of response.body) void chunk;
};
const before = () =>
  new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        servername: 'up.test',
        path: '/',
        agent: false,
        ca: [...tls.rootCertificates, extraCa],
      },
      (res) => res.resume().on('end', resolve),
    );
    req.on('error', reject);
    req.end();
  });
const median = (l) => [...l].sort((a, b) => a - b)[Math.floor(l.length / 2)];
const time = async (fn) => {
  const times = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
};
await ours();
await before();
const results = { ours: [], before: [] };
for (let r = 0; r < Number(values.rounds); r++) {
  results.ours.push(await time(ours));
  results.before.push(await time(before));
}
console.log(
  `new upstream HTTPS connection with an extra CA, ms per request (median of ${values.rounds} rounds of ${count}): ` +
    `one context ${median(results.ours).toFixed(2)}, a context per connection (before) ${median(results.before).toFixed(2)}`,
);
await client.close();
origin.close();
await ca.close();
rmSync(dir, { recursive: true, force: true });
