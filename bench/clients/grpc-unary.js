// Load generator for the gRPC benchmark: one @grpc/grpc-js channel keeping CONCURRENCY unary calls of
// /recalltest.Echo/Say in flight for DURATION seconds (raw message bytes, no codegen). Prints one JSON line:
// { calls, errors, callsPerSec, p50Ms, p99Ms }.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';

const { port, authority, caFile, durationSec, concurrency, message } = JSON.parse(process.argv[2]);
const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(readFileSync(caFile)), {
  'grpc.ssl_target_name_override': authority.split(':')[0],
  'grpc.default_authority': authority,
});
const request = Buffer.from(message, 'hex');
const latencies = [];
let errors = 0;
const end = Date.now() + durationSec * 1000;
const started = Date.now();
const one = () =>
  new Promise((resolve) => {
    const t = performance.now();
    client.makeUnaryRequest('/recalltest.Echo/Say', (b) => b, (b) => b, request, (error) => {
      if (error) errors++;
      else latencies.push(performance.now() - t);
      resolve();
    });
  });
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) await one();
  }),
);
const seconds = (Date.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN;
process.stdout.write(
  `${JSON.stringify({ calls: latencies.length, errors, callsPerSec: latencies.length / seconds, p50Ms: at(50), p99Ms: at(99) })}\n`,
);
client.close();
