// Property 3: Redis killed and restarted mid-run (append-only file on): queued jobs survive, the running one
// finishes and reports, and every job runs exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startRedisServer } from '../../server/scheduler/embedded-redis.js';
import { submitJobs } from '../../server/scheduler/submit.js';
import { inventoryYaml, SchedulerHarness, touchControl, waitFor } from './harness.js';

describe('Redis restarted mid-run', () => {
  let harness: SchedulerHarness;
  beforeAll(async () => {
    harness = await SchedulerHarness.start();
    await harness.loadInventory(inventoryYaml(['s1'], [{ name: 'r1', drone: 's1', labels: { pool: 'restart' } }]));
    await harness.startDrone('s1', { leaseMs: 5000 });
  });
  afterAll(async () => harness?.close());

  it('keeps the queue and lets the running job report', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [record] = await submitJobs(harness.client, { tests: [touchControl], labels: ['pool=restart'], args: `ms=${i === 0 ? 2500 : 200} log=${harness.log} tag=job${i}` });
      ids.push(record!.id);
    }
    await waitFor(async () => (await harness.job(ids[0]!)).status === 'RUNNING', 20_000, 'the first job to run');
    // SIGKILL: nothing gets a chance to flush but what Redis already wrote to its append-only file.
    await harness.redis.kill();
    harness.redis = await startRedisServer(join(harness.dir, 'redis'));
    const records = await harness.waitEnded(ids, 60_000);
    expect(records.map((r) => [r.status, r.attempts.length])).toEqual(Array(4).fill(['GOOD', 1]));
    const tags = (await harness.logLines()).map((l) => l.tag);
    expect(tags).toEqual(['job0', 'job1', 'job2', 'job3']);
  });
});

describe('Redis away for longer than a lease', () => {
  let harness: SchedulerHarness;
  beforeAll(async () => {
    harness = await SchedulerHarness.start();
    await harness.loadInventory(inventoryYaml(['s1'], [{ name: 'z1', drone: 's1', labels: { pool: 'outage' } }]));
    await harness.startDrone('s1', { leaseMs: 1500 });
  });
  afterAll(async () => harness?.close());

  it('stops the job whose leases lapsed instead of sharing the device, then runs it again', async () => {
    const [submitted] = await submitJobs(harness.client, { tests: [touchControl], labels: ['pool=outage'], args: `ms=8000 log=${harness.log} tag=outage` });
    const id = submitted!.id;
    await waitFor(async () => (await harness.job(id)).status === 'RUNNING', 20_000, 'the job to run');
    await harness.redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 3500)); // the outage: longer than two lease periods
    harness.redis = await startRedisServer(join(harness.dir, 'redis'));
    const [record] = await harness.waitEnded([id], 60_000);
    expect(record!.status).toBe('GOOD');
    expect(record!.attempts).toHaveLength(2);
    expect(record!.attempts[0]!.infrastructure).toBe(true);
    const [first, second] = record!.attempts;
    expect(Date.parse(second!.startedAt)).toBeGreaterThanOrEqual(Date.parse(first!.endedAt!));
    // The first attempt was stopped before it finished: only the second wrote its end record.
    expect((await harness.logLines()).map((l) => l.tag)).toEqual(['outage']);
  });
});
