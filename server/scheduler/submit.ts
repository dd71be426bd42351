/**
 * Submitting a job: everything a user can get wrong is refused here, at submit time, in one line: labels no
 * device has, too few devices, a control file that does not compile (file:line), a Recall job whose devices
 * share no gateway drone. An accepted job is added to the BullMQ queue and ranked among the jobs waiting for
 * devices at once.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { loadControlFile } from '../../lib/control-file.js';
import { AutotestError } from '../../lib/errors.js';
import { builtInTestsDir } from '../../lib/package-root.js';
import { resolveTests } from '../test-resolver.js';
import { rankOf, DeviceLeases, type DeviceWant } from './device-leases.js';
import { matchDevices, parseLabel, type Inventory } from './inventory.js';
import type { JobRecord } from './records.js';
import { keys } from './redis-keys.js';
import type { SchedulerClient } from './scheduler-client.js';

export class SubmitError extends AutotestError {}

export interface SubmitRequest {
  /** Test names (searched in `testsDirs`, then site_tests/), control files or suite:NAME; one job each. */
  tests: string[];
  args?: string;
  /** Device names; the job needs all of them. */
  targets?: string[];
  /** `key=value` labels every device must have. */
  labels?: string[];
  /** Devices needed when targeting by labels. @default 1 */
  count?: number;
  /** 0..100, higher first. @default 50 */
  priority?: number;
  /** Seconds; 0 for none. */
  timeoutSec?: number;
  user?: string;
  testsDirs?: string[];
}

/** Tests that must run on their devices' gateway drone (their iptables rules live there). */
const GATEWAY_TESTS = new Set(['test_RecallServer', 'recall_all_machines']);

export function needsGatewayOf(control: { name: string; attributes?: readonly string[] }): boolean {
  return GATEWAY_TESTS.has(control.name) || (control.attributes ?? []).includes('needs:gateway');
}

/** The devices a job can use now; recomputed by the drone from the current inventory. */
export function wantOf(record: Pick<JobRecord, 'targets' | 'labels' | 'count' | 'needsGateway'>, inventory: Inventory): DeviceWant {
  return {
    count: record.count,
    candidates: matchDevices(inventory, record.labels, record.targets).map((d) => d.name),
    needsGateway: record.needsGateway,
  };
}

function checkDevices(inventory: Inventory, targets: string[], labels: string[], count: number, needsGateway: boolean): void {
  for (const label of labels) parseLabel(label);
  for (const name of targets) {
    if (!inventory.devices.some((d) => d.name === name)) throw new SubmitError('ERR_SUBMIT_HOST', `no device named ${name} in the inventory: see atest hosts`);
  }
  const matching = matchDevices(inventory, labels, targets);
  const what = [...targets, ...labels].join(' ') || 'any device';
  if (matching.length === 0) throw new SubmitError('ERR_SUBMIT_LABELS', `no device has ${what}: see atest hosts for the labels devices have`);
  if (matching.length < count) {
    throw new SubmitError('ERR_SUBMIT_COUNT', `the job needs ${count} devices but only ${matching.length} have ${what}`);
  }
  if (needsGateway) {
    const perDrone = new Map<string, number>();
    for (const d of matching) perDrone.set(d.drone, (perDrone.get(d.drone) ?? 0) + 1);
    if (![...perDrone.values()].some((n) => n >= count)) {
      throw new SubmitError('ERR_SUBMIT_GATEWAY', `the job runs on its devices' gateway drone, but no drone is the gateway of ${count} devices with ${what}`);
    }
  }
}

export async function submitJobs(client: SchedulerClient, request: SubmitRequest): Promise<JobRecord[]> {
  const targets = request.targets ?? [];
  const labels = request.labels ?? [];
  if (targets.length > 0 && request.count !== undefined && request.count !== targets.length) {
    throw new SubmitError('ERR_SUBMIT_COUNT', `--count ${request.count} does not match the ${targets.length} devices named: give one or the other`);
  }
  const count = targets.length || (request.count ?? 1);
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new SubmitError('ERR_SUBMIT_COUNT', `--count ${String(request.count)} is not a number of devices (1..1000)`);
  const priority = request.priority ?? 50;
  if (!Number.isInteger(priority) || priority < 0 || priority > 100) throw new SubmitError('ERR_SUBMIT_PRIORITY', `priority ${priority} is not 0..100 (or low, medium, high, urgent)`);
  const timeoutSec = request.timeoutSec ?? 0;
  if (!Number.isFinite(timeoutSec) || timeoutSec < 0) throw new SubmitError('ERR_SUBMIT_TIMEOUT', `timeout ${timeoutSec} is not a number of seconds`);

  const inventory = await client.hosts.inventory();
  // Compile every control file first: nothing is queued when one of them is broken.
  const resolved = await resolveTests(request.tests, [...(request.testsDirs ?? []).map((d) => resolve(d)), builtInTestsDir]);
  if (resolved.length === 0) throw new SubmitError('ERR_SUBMIT_TESTS', 'name at least one test or control file to run');
  const jobs = [];
  for (const test of resolved) {
    const { control } = await loadControlFile(test.control);
    const needsGateway = needsGatewayOf(control);
    checkDevices(inventory, targets, labels, count, needsGateway);
    jobs.push({ test, needsGateway });
  }

  const leases = new DeviceLeases(client.redis);
  const records: JobRecord[] = [];
  for (const { test, needsGateway } of jobs) {
    const submittedAt = new Date();
    const base: Omit<JobRecord, 'id'> = {
      name: test.name,
      user: request.user ?? userInfo().username,
      control: test.control,
      args: request.args ?? '',
      targets,
      labels,
      count,
      priority,
      timeoutSec,
      needsGateway,
      status: 'QUEUED',
      machines: [],
      submittedAt: submittedAt.toISOString(),
      attempts: [],
    };
    // autotest's job names: `<number>-<user>`. The record and its rank exist before BullMQ has the job, so a
    // drone that takes the job at once finds both.
    const number = await client.redis.incr(keys.nextId);
    const id = `${number}-${base.user.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    const record = await client.jobs.create({ id, ...base });
    await leases.register(id, rankOf(priority, submittedAt.getTime()), wantOf(record, inventory));
    try {
      await client.jobQueue.add(test.name, base, {
        jobId: id,
        priority: 101 - priority,
        removeOnComplete: { count: 10_000 },
        removeOnFail: { count: 10_000 },
      });
    } catch (error) {
      await leases.unregister(id);
      await client.jobs.update(id, { status: 'ERROR', reason: `not queued: ${(error as Error).message}` });
      throw error;
    }
    records.push(record);
  }
  return records;
}
