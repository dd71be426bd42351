// A drone's everyday life: SIGTERM lets running jobs finish, a second SIGTERM requeues them for another drone;
// cancel and timeout stop jobs; a job that needs its devices' gateway runs only on that drone; results reach
// the results server.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startResultsServer } from '../../server/results-server/results-server.js';
import { submitJobs } from '../../server/scheduler/submit.js';
import { inventoryYaml, recallControl, SchedulerHarness, touchControl, waitFor, writeFileIn } from './harness.js';

describe('drone lifecycle', () => {
  let harness: SchedulerHarness;
  beforeAll(async () => {
    harness = await SchedulerHarness.start();
    await harness.loadInventory(
      inventoryYaml(['s1', 's2'], [
        { name: 'l1', drone: 's1', labels: { pool: 'life' } },
        { name: 'l2', drone: 's1', labels: { pool: 'life' } },
        { name: 'g1', drone: 's2', labels: { pool: 'gate' } },
        { name: 'k1', drone: 's1', labels: { pool: 'locked' } },
      ]),
    );
  });
  afterAll(async () => harness?.close());

  const submit = async (tag: string, options: { ms?: number; timeoutSec?: number; host?: string; control?: string } = {}) =>
    (
      await submitJobs(harness.client, {
        tests: [options.control ?? touchControl],
        ...(options.host ? { targets: [options.host] } : { labels: ['pool=life'] }),
        args: `ms=${options.ms ?? 100} log=${harness.log} tag=${tag}`,
        ...(options.timeoutSec ? { timeoutSec: options.timeoutSec } : {}),
      })
    )[0]!.id;
  const running = async (id: string) => waitFor(async () => (await harness.job(id)).status === 'RUNNING', 20_000, `job ${id} to run`);

  it('finishes its running job on SIGTERM, then exits 0', async () => {
    const drone = await harness.startDrone('s1');
    const id = await submit('term', { ms: 1500 });
    await running(id);
    await waitFor(async () => (await harness.client.listDrones())[0]?.running.includes(id) === true, 10_000, 'the heartbeat to list the job');
    expect(await harness.client.listDrones()).toEqual([expect.objectContaining({ name: 's1', alive: true, running: [id] })]);
    expect((await harness.atest(['drones'])).stdout).toMatch(new RegExp(`^s1 +ALIVE .* 1/8 ${id} `, 'm'));
    drone.child.kill('SIGTERM');
    expect(await drone.exited).toBe(0);
    expect(await harness.client.listDrones()).toEqual([{ name: 's1', alive: false, running: [] }]);
    const record = await harness.job(id);
    expect([record.status, record.attempts.length]).toEqual(['GOOD', 1]);
  });

  it('requeues its running job on a second SIGTERM; another drone runs it', async () => {
    const drone = await harness.startDrone('s1');
    const id = await submit('requeue', { ms: 4000 });
    await running(id);
    drone.child.kill('SIGTERM');
    await waitFor(() => drone.output().includes('finishing running jobs'), 10_000, 'the first SIGTERM');
    drone.child.kill('SIGTERM');
    expect(await drone.exited).toBe(0);
    expect((await harness.job(id)).status).toBe('QUEUED');
    await harness.startDrone('s2');
    const [record] = await harness.waitEnded([id], 60_000);
    expect(record!.status).toBe('GOOD');
    expect(record!.attempts.map((a) => [a.status, a.infrastructure, a.drone])).toEqual([
      ['REQUEUED', true, 's1'],
      ['GOOD', false, 's2'],
    ]);
    expect((await harness.logLines()).filter((l) => l.tag === 'requeue')).toHaveLength(1);
  });

  it('cancels a queued job and a running one', async () => {
    const busy = await submit('busy', { ms: 4000, host: 'l1' });
    await running(busy);
    const queued = await submit('queued', { host: 'l1' });
    const cancelQueued = await harness.atest(['cancel', queued]);
    expect([cancelQueued.code, cancelQueued.stdout]).toEqual([0, `job ${queued} cancelled\n`]);
    const cancelRunning = await harness.atest(['cancel', busy]);
    expect([cancelRunning.code, cancelRunning.stdout]).toEqual([0, `job ${busy}: its drone stops it now\n`]);
    const [b, q] = await harness.waitEnded([busy, queued], 30_000);
    expect([b!.status, b!.reason]).toEqual(['CANCELLED', 'cancelled by root']);
    expect([q!.status, q!.attempts]).toEqual(['CANCELLED', []]);
    expect((await harness.atest(['cancel', queued])).stderr).toBe(`atest: job ${queued} already ended CANCELLED: nothing to cancel\n`);
  });

  it('aborts a job that runs past its timeout', async () => {
    const id = await submit('slow', { ms: 10_000, timeoutSec: 1 });
    const [record] = await harness.waitEnded([id], 30_000);
    expect([record!.status, record!.reason]).toEqual(['ABORT', 'timed out after 1 s']);
  });

  it('runs a job that needs the gateway only on the device\'s gateway drone', async () => {
    await harness.startDrone('s1'); // s2 runs since the requeue test: both drones compete for the jobs
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await submit(`gw${i}`, { host: 'g1', control: recallControl }));
    const records = await harness.waitEnded(ids, 60_000);
    expect(records.map((r) => [r.status, r.drone])).toEqual(Array(6).fill(['GOOD', 's2']));
    expect(records.every((r) => r.needsGateway)).toBe(true);
  });

  it('keeps jobs off a locked device, says why they wait, and runs them once it is unlocked', async () => {
    const lock = await harness.atest(['lock', 'k1', '--reason', 'reflashing']);
    expect([lock.code, lock.stdout]).toEqual([0, 'k1 locked\n']);
    expect((await harness.atest(['hosts'])).stdout).toMatch(/^k1 .* LOCKED .*locked by root: reflashing$/m);
    const id = await submit('locked', { host: 'k1' });
    await waitFor(async () => (await harness.job(id)).reason === 'waiting: k1 is locked or needs repair (atest hosts)', 20_000, 'the job to say why it waits');
    expect((await harness.job(id)).status).toBe('QUEUED');
    expect((await harness.atest(['unlock', 'k1'])).code).toBe(0);
    const [record] = await harness.waitEnded([id], 30_000);
    expect([record!.status, record!.machines, record!.reason]).toEqual(['GOOD', ['k1'], undefined]);
    const noReason = await harness.atest(['lock', 'k1', '--reason', ' ']);
    expect([noReason.code, noReason.stderr]).toEqual([2, "atest: say why k1 is locked: atest lock k1 --reason '...'\n"]);
  });

  it('uploads results to the results server', async () => {
    // Only the drone that knows the results server may take the job.
    for (const other of harness.drones.filter((d) => d.child.exitCode === null && d.child.signalCode === null)) {
      other.child.kill('SIGTERM');
      await other.exited;
    }
    const token = 'scheduler-test-token-0123456789';
    await using server = await startResultsServer({ dir: join(harness.dir, 'results-server'), token, host: '127.0.0.1', port: 0 });
    const tokenFile = await writeFileIn(harness.dir, 'token', token);
    const drone = await harness.startDrone('s1', { results: server.url, tokenFile });
    const id = await submit('upload');
    const [record] = await harness.waitEnded([id], 30_000);
    expect(record!.resultsUrl).toBe(`${server.url}/results/${id}/`);
    const response = await fetch(`${record!.resultsUrl}keyval`);
    expect(response.status, drone.output()).toBe(200);
    expect(await readFile(join(harness.dir, 'results-server', id, 'keyval'), 'utf8')).toContain(`label=${id}`);
    drone.child.kill('SIGTERM');
    await drone.exited;
  });
});
