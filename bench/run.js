#!/usr/bin/env node
// `npm run bench`: every benchmark in bench/, bounded in time and count, against its peer on the same machine in
// the same run. Servers run on core 0, load generators on core 1 (taskset). Writes bench/results.md (the table)
// and bench/results.json (every raw number). Needs root (apt-get, network namespaces for the lab). bench/README.md
// describes each benchmark and what limits the results.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../dist/lib/fs-atomic.js';
import { runArchiveSize } from './archive-size.js';
import { runCertMinting } from './cert-minting.js';
import { runDnsPlayback } from './dns-playback.js';
import { runHttpPlayback } from './http-playback.js';
import { runH2Playback } from './h2-playback.js';
import { runGrpcPlayback } from './grpc-playback.js';
import { runWebSocketPlayback } from './websocket-playback.js';
import { runScaling, runSsh, withLab } from './lab-benches.js';
import { runPackageInstall } from './package-install.js';
import { ensurePeers } from './lib/peers.js';
import { killAllNow, stopAll } from './lib/processes.js';
import { formatResults } from './lib/results.js';
import { setupSite } from './lib/site.js';
import { runRecordingOverhead } from './recording-overhead.js';
import { runScheduler } from './scheduler.js';
import { runServe } from './serve.js';

const SERVER = '0';
const LOAD = '1';
const config = {
  http: { loadCore: LOAD, rounds: 3, durationSec: 2, connections: [1, 8, 32] },
  h2: { loadCore: LOAD, serverCore: SERVER, rounds: 3, durationSec: 2, streams: [1, 8, 32] },
  grpc: { loadCore: LOAD, serverCore: SERVER, rounds: 3, durationSec: 2, concurrency: [1, 8] },
  websocket: { serverCore: SERVER, rounds: 3, frames: 2000 },
  mint: { loadCore: LOAD, count: 100 },
  serve: {
    loadCore: LOAD,
    serverCore: SERVER,
    rounds: 3,
    durationSec: 2,
    connections: [1, 8, 32],
    count: 100,
  },
  record: { loadCore: LOAD, serverCore: SERVER, rounds: 3, durationSec: 2, connections: [1, 8] },
  dns: { loadCore: LOAD, serverCore: SERVER, names: 1000, rounds: 3, durationSec: 3 },
  ssh: { loadCore: LOAD, count: 200, maxMs: 75_000 },
  scaling: { sizes: [1, 4, 16], rounds: 3, sleepSec: 5 },
  packages: { devices: 8, rounds: 3 },
  archive: { loadCore: LOAD, sizes: [1000, 10_000, 100_000], rounds: 3, roundsAbove50k: 2 },
  labDevices: 16,
  scheduler: { devices: 48, jobs: 1000, latencyJobs: 30, loopJobs: 20, maxJobs: 16 },
};
const only = process.env.BENCH_ONLY?.split(',');

const started = Date.now();
// The machine's load around the run: other work on a shared 2-core machine moves every number.
const loadAtStart = os.loadavg().map((n) => Number(n.toFixed(2)));
const log = (area) => (message) =>
  process.stderr.write(
    `[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${area}: ${message}\n`,
  );

if (process.getuid?.() !== 0) {
  process.stderr.write(
    'bench: needs root (apt-get for the peers, network namespaces for the lab); run it with sudo\n',
  );
  process.exit(1);
}
if (os.cpus().length < 2) {
  process.stderr.write(
    `bench: needs 2 cores (server on core 0, load on core 1); this machine has ${os.cpus().length}\n`,
  );
  process.exit(1);
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log('run')(`${signal}: stopping every peer`);
    // The lab (if up) is removed by withLab's finally once its current step fails.
    stopAll().finally(() => setTimeout(() => process.exit(130), 20_000).unref());
  });
}
process.on('exit', killAllNow);

const peers = ensurePeers(log('peers'));
const dir = mkdtempSync(join(os.tmpdir(), 'autotest-bench-'));
const results = [];
const raw = {};

async function bench(id, title, budgetMs, fn) {
  if (interrupted || (only && !only.includes(id))) return;
  const l = log(id);
  l(`${title} (budget ${budgetMs / 1000} s)`);
  const t = Date.now();
  let timer;
  try {
    const outcome = await Promise.race([
      fn(l),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`ran over its ${budgetMs / 1000} s budget`)), budgetMs);
      }),
    ]);
    results.push(...outcome.rows.map((row) => ({ ...row, bench: id })));
    raw[id] = { ...outcome.raw, seconds: (Date.now() - t) / 1000 };
  } catch (error) {
    l(`FAILED: ${error.stack ?? error}`);
    results.push({
      bench: id,
      what: `${title}: FAILED (${String(error.message ?? error)
        .split('\n')[0]
        .slice(0, 200)})`,
      met: false,
    });
    raw[id] = { error: String(error.stack ?? error), seconds: (Date.now() - t) / 1000 };
  } finally {
    clearTimeout(timer);
  }
  l(`done in ${((Date.now() - t) / 1000).toFixed(0)} s`);
}

try {
  let site;
  try {
    const needSite = !only || only.some((id) => ['http', 'serve', 'mint', 'record'].includes(id));
    if (needSite) site = await setupSite({ dir: join(dir, 'site'), serverCore: SERVER, log: log('setup') });
    if (site) {
      await bench('http', 'HTTP and HTTPS playback vs mitmproxy replay and nginx', 240_000, (l) =>
        runHttpPlayback({ site, config, log: l }),
      );
      await bench(
        'serve',
        '`recall serve` and the test_RecallServer stack as users run them, vs nginx',
        300_000,
        (l) => runServe({ site, dir, config, log: l }),
      );
      await bench('mint', 'certificate minting for new host names', 90_000, (l) =>
        runCertMinting({ site, config, log: l }),
      );
      await bench('record', 'recording overhead', 120_000, (l) =>
        runRecordingOverhead({ site, dir: join(dir, 'site'), config, log: l }),
      );
    }
  } catch (error) {
    log('setup')(`FAILED: ${error.stack ?? error}`);
    results.push({
      bench: 'setup',
      what: `HTTP benchmarks: setup FAILED (${String(error.message).slice(0, 200)})`,
      met: false,
    });
  } finally {
    await site?.stop();
  }
  await bench('h2', 'HTTP/2 playback vs nginx h2 (h2load)', 120_000, (l) =>
    runH2Playback({ dir, config, log: l }),
  );
  await bench('grpc', 'gRPC unary playback vs the live grpc-js server', 120_000, (l) =>
    runGrpcPlayback({ dir, config, log: l }),
  );
  await bench('websocket', 'WebSocket round trips recorded and played back vs direct', 90_000, (l) =>
    runWebSocketPlayback({ config, log: l }),
  );
  await bench('dns', 'DNS playback vs dnsmasq', 90_000, (l) => runDnsPlayback({ dir, config, log: l }));
  await bench('archive', 'archive load time and memory', 240_000, (l) =>
    runArchiveSize({ dir, config, log: l }),
  );
  if (!only || only.includes('ssh') || only.includes('scaling') || only.includes('packages')) {
    try {
      await withLab(config.labDevices, log('lab'), async (status) => {
        await bench('ssh', 'SSHHost vs ssh', 300_000, (l) => runSsh({ status, dir, config, log: l }));
        await bench('packages', 'client install on 1 and 8 devices', 180_000, (l) =>
          runPackageInstall({ status, config, log: l }),
        );
        await bench('scaling', 'parallelSimple scaling over lab devices', 240_000, (l) =>
          runScaling({ status, dir, config, log: l }),
        );
      });
    } catch (error) {
      log('lab')(`FAILED: ${error.stack ?? error}`);
      results.push({
        bench: 'lab',
        what: `SSH and scaling: lab FAILED (${String(error.message).slice(0, 200)})`,
        met: false,
      });
    }
  }
  // A lab of its own: 3 servers (one drone each) and their devices.
  await bench('scheduler', 'lab scheduler: overhead per job and throughput over 3 drones', 900_000, (l) =>
    runScheduler({ config, log: l }),
  );
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}

const machine = {
  loadAverage: { start: loadAtStart, end: os.loadavg().map((n) => Number(n.toFixed(2))) },
  cpu: os.cpus()[0]?.model.replace(/\s+/g, ' ').trim(),
  cores: os.cpus().length,
  memoryGB: Math.round(os.totalmem() / 2 ** 30),
  kernel: os.release(),
  node: process.version,
  os: execFileSync('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"'], { encoding: 'utf8' }).trim(),
};
const date = new Date().toISOString();
const seconds = (Date.now() - started) / 1000;
const here = new URL('.', import.meta.url).pathname;
// A subset (BENCH_ONLY) goes beside the full table, not over it: results.md is one whole run.
const name = only ? 'results-partial' : 'results';
await writeFileAtomic(
  join(here, `${name}.json`),
  `${JSON.stringify({ date, seconds, machine, peers, config, only, results, raw }, null, 2)}\n`,
);
await writeFileAtomic(join(here, `${name}.md`), formatResults({ date, seconds, machine, peers, config, results }));
log('run')(`wrote bench/${name}.md and bench/${name}.json in ${seconds.toFixed(0)} s`);
process.stdout.write(formatResults({ date, seconds, machine, peers, config, results }));
