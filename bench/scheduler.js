// 7. The lab scheduler (issue 14): scheduling overhead per job (submit to autoserv start, an idle device
// waiting) and the throughput of no-op jobs across 3 drones on a 3-server virtual lab, against the same jobs run
// by run-remote in a shell loop. Real parts throughout: redis-server on a unix socket (reachable from every
// server namespace), `drone` processes in the server namespaces, jobs submitted with the scheduler's own code.
// Runs alone: `node bench/scheduler.js [devices] [jobs]` (as root, after `npm run build`).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Lab } from '../dist/server/lab/lab.js';
import { labInventory } from '../dist/server/lab/lab-inventory.js';
import { startRedisServer } from '../dist/server/scheduler/embedded-redis.js';
import { parseInventory } from '../dist/server/scheduler/inventory.js';
import { SchedulerClient } from '../dist/server/scheduler/scheduler-client.js';
import { submitJobs } from '../dist/server/scheduler/submit.js';
import { runPinned, startPinned } from './lib/processes.js';
import { median, percentile, round } from './lib/stats.js';

const repo = new URL('..', import.meta.url).pathname;
const CONTROL = join(repo, 'bench', 'scheduler-noop-control.ts');
const FINAL = new Set(['GOOD', 'FAIL', 'ERROR', 'ABORT', 'CANCELLED']);

async function waitFinal(client, ids, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(ids);
  const done = new Map();
  while (pending.size > 0) {
    for (const id of [...pending]) {
      const record = await client.getJob(id);
      if (record && FINAL.has(record.status)) {
        done.set(id, record);
        pending.delete(id);
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline)
      throw new Error(`${pending.size} of ${ids.length} jobs not finished within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, pending.size > 20 ? 200 : 5));
  }
  return ids.map((id) => done.get(id));
}

function startDrone(status, server, redisUrl, dir, maxJobs) {
  return startPinned(
    '0,1',
    'ip',
    [
      'netns',
      'exec',
      server.namespace,
      process.execPath,
      join(repo, 'bin', 'drone.js'),
      '--redis',
      redisUrl,
      '--results',
      join(dir, 'store'),
      '--name',
      server.name,
      '--state',
      join(dir, server.name),
      '--max-jobs',
      String(maxJobs),
    ],
    { env: { DRONE_LOG_LEVEL: 'warn' } },
  );
}

/** Runs in a lab of its own with 3 servers; returns bench rows. */
export async function runScheduler({ config, log }) {
  const { devices, jobs, latencyJobs, loopJobs, maxJobs } = config.scheduler;
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-scheduler-'));
  const name = `bs${randomBytes(3).toString('hex').slice(0, 5)}`;
  let lab;
  let redis;
  let client;
  const drones = [];
  try {
    log(`lab up ${name}: 3 servers, ${devices} devices`);
    lab = await Lab.up({ name, devices, servers: 3 });
    const status = lab.status();
    redis = await startRedisServer(join(dir, 'redis'));
    client = await SchedulerClient.connect(redis.url);
    await client.hosts.publishInventory(parseInventory(labInventory(status), 'lab inventory'));
    for (const server of status.servers) drones.push(startDrone(status, server, redis.url, dir, maxJobs));
    for (const drone of drones) await drone.waitFor(/ready/, 60_000);
    const submit = (count) =>
      submitJobs(client, { tests: Array(count).fill(CONTROL), labels: ['pool=lab'], user: 'bench' });

    // Warm-up: every drone compiles the control file once.
    await waitFinal(
      client,
      (await submit(6)).map((j) => j.id),
      120_000,
    );

    log(`overhead: ${latencyJobs} jobs one after another, each with idle devices waiting`);
    const overheadMs = [];
    const endToEndMs = [];
    for (let i = 0; i < latencyJobs; i += 1) {
      const t0 = Date.now();
      const [job] = await submit(1);
      const [record] = await waitFinal(client, [job.id], 60_000);
      if (record.status !== 'GOOD')
        throw new Error(`job ${record.id} ended ${record.status}: ${record.reason ?? ''}`);
      // startedAt is written by the drone just before it calls autoserv (server/scheduler/attempt-runner.ts).
      overheadMs.push(Date.parse(record.attempts.at(-1).startedAt) - Date.parse(record.submittedAt));
      endToEndMs.push(Date.now() - t0);
    }

    log(`throughput: ${jobs} jobs at once over 3 drones`);
    const t0 = Date.now();
    const submitted = await submit(jobs);
    const submitSec = (Date.now() - t0) / 1000;
    const records = await waitFinal(
      client,
      submitted.map((j) => j.id),
      900_000,
    );
    const lastEnd = Math.max(...records.map((r) => Date.parse(r.endedAt)));
    const totalSec = (lastEnd - t0) / 1000;
    const bad = records.filter((r) => r.status !== 'GOOD');
    if (bad.length)
      throw new Error(
        `${bad.length} of ${jobs} jobs did not pass, e.g. ${bad[0].id}: ${bad[0].status} ${bad[0].reason ?? ''}`,
      );
    const byDrone = {};
    for (const r of records) byDrone[r.drone] = (byDrone[r.drone] ?? 0) + 1;

    log(`run-remote: ${loopJobs} jobs in a shell loop in server 1`);
    const device = status.devices[0].address;
    const loop = `for i in $(seq ${loopJobs}); do ${process.execPath} ${join(repo, 'bin', 'run-remote.js')} --remote ${device} --results-dir ${dir}/rr/$i ${CONTROL} >/dev/null || exit 1; done`;
    const l0 = Date.now();
    const rr = await runPinned(
      '0,1',
      'ip',
      ['netns', 'exec', status.servers[0].namespace, 'sh', '-c', loop],
      { timeoutMs: 600_000 },
    );
    if (rr.code !== 0) throw new Error(`run-remote loop failed (${rr.code}): ${rr.stderr.slice(-500)}`);
    const loopPerJobMs = (Date.now() - l0) / loopJobs;

    const ours = jobs / totalSec;
    const peer = 1000 / loopPerJobMs;
    const overhead = median(overheadMs);
    return {
      rows: [
        {
          what: `scheduling overhead per job: submit to autoserv start, idle device (median of ${latencyJobs}; p90 ${round(percentile(overheadMs, 90))} ms)`,
          ours: `${round(overhead)} ms`,
          peer: `${round(median(endToEndMs))} ms`,
          peerName: 'whole job, submit to GOOD seen',
          target: '< 50 ms',
          met: overhead < 50,
        },
        {
          what: `throughput: ${jobs} no-op jobs, 3 drones (${maxJobs} jobs each at once), ${devices} lab devices`,
          ours: `${round(ours)} jobs/s`,
          peer: `${round(peer)} jobs/s`,
          peerName: `run-remote in a shell loop, ${loopJobs} jobs`,
          ratio: ours / peer,
        },
      ],
      raw: { overheadMs, endToEndMs, submitSec, totalSec, byDrone, loopPerJobMs, devices, jobs, maxJobs },
    };
  } finally {
    for (const drone of drones) await drone.stop();
    await client?.close();
    await redis?.stop();
    if (lab) await lab.down();
    else await Lab.downByName(name).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [devices = 12, jobs = 100] = process.argv.slice(2).map(Number);
  const config = { scheduler: { devices, jobs, latencyJobs: 20, loopJobs: 10, maxJobs: 16 } };
  const started = Date.now();
  const outcome = await runScheduler({
    config,
    log: (m) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${m}\n`),
  });
  process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
}
