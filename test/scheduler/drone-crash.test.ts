// Property 2: a drone killed with SIGKILL mid-job. Its leases lapse by themselves, the job runs once more on
// another drone and the dead attempt is recorded as an infrastructure retry (BOT_DIED); a job whose retry dies
// too is ABORTed with the reason. Nothing is lost and nothing runs twice to completion.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitJobs } from '../../server/scheduler/submit.js';
import { inventoryYaml, SchedulerHarness, touchControl, waitFor, type DroneProcess } from './harness.js';

const LEASE_MS = 1500;

describe('a drone killed mid-job', () => {
  let harness: SchedulerHarness;
  beforeAll(async () => {
    harness = await SchedulerHarness.start();
    await harness.loadInventory(
      inventoryYaml(
        ['a', 'b', 'c'],
        ['x1', 'x2', 'x3', 'x4'].map((name) => ({ name, drone: 'a', labels: { pool: 'crash' } })),
      ),
    );
  });
  afterAll(async () => harness?.close());

  const submit = async (tag: string, host: string, ms: number) =>
    (await submitJobs(harness.client, { tests: [touchControl], targets: [host], args: `ms=${ms} log=${harness.log} tag=${tag}` }))[0]!.id;
  const alive = (d: DroneProcess) => d.child.exitCode === null && d.child.signalCode === null;
  /** SIGKILLs the live drone of that name and waits until it is gone. */
  const kill = async (name: string) => {
    const drone = harness.drones.find((d) => d.name === name && alive(d))!;
    drone.child.kill('SIGKILL');
    await drone.exited;
  };

  it('frees the leases within two lease periods and retries the job once on another drone, recorded as BOT_DIED', async () => {
    await harness.startDrone('a', { leaseMs: LEASE_MS });
    await harness.startDrone('b', { leaseMs: LEASE_MS });
    const victim = await submit('victim', 'x1', 4000);
    await waitFor(async () => (await harness.job(victim)).status === 'RUNNING', 20_000, 'the job to run');
    const first = (await harness.job(victim)).drone!;
    const others = [await submit('other1', 'x2', 200), await submit('other2', 'x3', 200), await submit('other3', 'x4', 200)];
    await kill(first);
    await waitFor(
      async () => {
        const lease = (await harness.client.listHosts()).find((h) => h.name === 'x1')!.lease;
        return lease === null || lease.drone !== first;
      },
      2 * LEASE_MS + 500,
      `the dead drone's lease on x1 to lapse`,
    );
    const [record, ...rest] = await harness.waitEnded([victim, ...others], 60_000);
    expect(record!.status).toBe('GOOD');
    expect(record!.attempts.map((a) => [a.status, a.infrastructure, a.drone])).toEqual([
      ['BOT_DIED', true, first],
      ['GOOD', false, first === 'a' ? 'b' : 'a'],
    ]);
    expect(record!.attempts[0]!.reason).toMatch(`drone ${first} stopped renewing its lease during attempt 1`);
    expect(rest.map((r) => r.status)).toEqual(['GOOD', 'GOOD', 'GOOD']);
    // Each job wrote its end record exactly once: the dead attempt never finished, nothing ran twice.
    const tags = (await harness.logLines()).map((l) => l.tag).sort();
    expect(tags).toEqual(['other1', 'other2', 'other3', 'victim']);
    const keyval = await readFile(join(record!.resultsUrl!, 'keyval'), 'utf8');
    expect(keyval).toContain('scheduler_attempt=2\n');
    expect(keyval).toContain('scheduler_infrastructure_retries=1\n');
    expect(keyval).toMatch(new RegExp(`^scheduler_retry_reasons=#1 BOT_DIED: drone ${first} stopped renewing its lease`, 'm'));
    const shown = await harness.atest(['show', victim]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('infrastructure retries 1');
    expect(shown.stdout).toContain(`#1 BOT_DIED (infrastructure) on drone ${first}`);
  });

  it('ABORTs a job whose retry dies too, with the reason', async () => {
    const job = await submit('twice', 'x1', 6000);
    await waitFor(async () => (await harness.job(job)).status === 'RUNNING', 20_000, 'the job to run');
    const first = (await harness.job(job)).drone!;
    await kill(first);
    await harness.startDrone('c', { leaseMs: LEASE_MS });
    await waitFor(async () => (await harness.job(job)).attempts.length === 2 && (await harness.job(job)).status === 'RUNNING', 30_000, 'the retry to run');
    const second = (await harness.job(job)).drone!;
    await kill(second);
    if (!harness.drones.some(alive)) await harness.startDrone('a', { leaseMs: LEASE_MS });
    const [record] = await harness.waitEnded([job], 60_000);
    expect(record!.status).toBe('ABORT');
    expect(record!.reason).toMatch(/stopped renewing its lease during attempt 2 .*not retried again after 1 infrastructure retry/);
    expect(record!.attempts.map((a) => a.status)).toEqual(['BOT_DIED', 'BOT_DIED']);
    expect((await harness.logLines()).filter((l) => l.tag === 'twice')).toEqual([]);
  });
});
