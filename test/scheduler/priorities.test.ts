// Property 4: a high-priority job overtakes queued low ones, and a job needing several devices is not starved
// by single-device jobs behind it (devices that come free are held for it once it is first in line).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitJobs } from '../../server/scheduler/submit.js';
import { inventoryYaml, SchedulerHarness, touchControl, waitFor } from './harness.js';

describe('priorities and fairness', () => {
  let harness: SchedulerHarness;
  beforeAll(async () => {
    harness = await SchedulerHarness.start();
    await harness.loadInventory(
      inventoryYaml(['s1'], [
        { name: 'solo', drone: 's1', labels: { pool: 'solo' } },
        { name: 't1', drone: 's1', labels: { pool: 'trio' } },
        { name: 't2', drone: 's1', labels: { pool: 'trio' } },
        { name: 't3', drone: 's1', labels: { pool: 'trio' } },
      ]),
    );
    await harness.startDrone('s1', { maxJobs: 8 });
  });
  afterAll(async () => harness?.close());

  const submit = async (tag: string, labels: string[], options: { priority?: number; count?: number; ms?: number } = {}) =>
    (
      await submitJobs(harness.client, {
        tests: [touchControl],
        labels,
        args: `ms=${options.ms ?? 300} log=${harness.log} tag=${tag}`,
        ...(options.priority !== undefined ? { priority: options.priority } : {}),
        ...(options.count !== undefined ? { count: options.count } : {}),
      })
    )[0]!.id;

  it('runs a high-priority job before the low ones queued before it', async () => {
    const blocker = await submit('blocker', ['pool=solo'], { ms: 1500 });
    await waitFor(async () => (await harness.job(blocker)).status === 'RUNNING', 20_000, 'the blocker to run');
    const low: string[] = [];
    for (let i = 0; i < 4; i++) low.push(await submit(`low${i}`, ['pool=solo'], { priority: 20 }));
    const high = await submit('high', ['pool=solo'], { priority: 80 });
    await harness.waitEnded([blocker, ...low, high], 60_000);
    const lines = (await harness.logLines()).filter((l) => l.machines.length === 1 && ['blocker', 'high'].concat(low.map((_, i) => `low${i}`)).includes(l.tag));
    const order = lines.sort((a, b) => a.start - b.start).map((l) => l.tag);
    expect(order).toEqual(['blocker', 'high', 'low0', 'low1', 'low2', 'low3']);
  });

  it('holds freed devices for a three-device job ahead of single-device jobs submitted after it', async () => {
    const before: string[] = [];
    for (let i = 0; i < 3; i++) before.push(await submit(`before${i}`, ['pool=trio'], { ms: 800 + 300 * i }));
    await waitFor(async () => (await Promise.all(before.map((id) => harness.job(id)))).every((r) => r.status === 'RUNNING'), 20_000, 'the trio to be busy');
    const multi = await submit('multi', ['pool=trio'], { count: 3, ms: 100 });
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push(await submit(`after${i}`, ['pool=trio'], { ms: 400 }));
    const records = await harness.waitEnded([...before, multi, ...after], 90_000);
    expect(records.map((r) => r.status)).toEqual(Array(records.length).fill('GOOD'));
    const lines = await harness.logLines();
    const multiLine = lines.find((l) => l.tag === 'multi')!;
    expect(multiLine.machines).toHaveLength(3);
    const afterStarts = lines.filter((l) => l.tag.startsWith('after')).map((l) => l.start);
    expect(afterStarts).toHaveLength(6);
    // Every single-device job submitted after the three-device one started after it ended.
    expect(Math.min(...afterStarts)).toBeGreaterThanOrEqual(multiLine.end);
  });
});
