/** What users do to jobs and devices besides submitting: cancel, lock, unlock, repair. */
import { AutotestError } from '../../lib/errors.js';
import { setDefaultHostOptions } from '../hosts/index.js';
import { DeviceLeases } from './device-leases.js';
import { verifyDevice } from './device-verify.js';
import { machineName, type InventoryDevice } from './inventory.js';
import type { JobRecord } from './records.js';
import type { SchedulerClient } from './scheduler-client.js';
import { isFinal } from './job-store.js';

export class AdminError extends AutotestError {}

const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children']);

async function knownJob(client: SchedulerClient, id: string): Promise<JobRecord> {
  const record = await client.getJob(id);
  if (!record) throw new AdminError('ERR_NO_JOB', `no job ${id}: see atest jobs`);
  return record;
}

/** A waiting job is removed from the queue at once; a running one is stopped by its drone within a heartbeat. */
export async function cancelJob(client: SchedulerClient, id: string, user: string): Promise<{ record: JobRecord; running: boolean }> {
  const record = await knownJob(client, id);
  if (isFinal(record)) throw new AdminError('ERR_JOB_ENDED', `job ${id} already ended ${record.status}: nothing to cancel`);
  const job = await client.jobQueue.getJob(id);
  let removed = !job;
  if (job && NOT_STARTED.has(await job.getState())) removed = await job.remove().then(() => true, () => false);
  if (removed) {
    await new DeviceLeases(client.redis).unregister(id);
    const updated = await client.jobs.update(id, { status: 'CANCELLED', reason: `cancelled by ${user} before it started`, endedAt: new Date().toISOString() }, { unlessFinal: true });
    return { record: updated ?? record, running: false };
  }
  const updated = await client.jobs.update(id, { cancelRequested: true, reason: `cancelled by ${user}` }, { unlessFinal: true });
  return { record: updated ?? record, running: true };
}

async function knownDevice(client: SchedulerClient, name: string): Promise<InventoryDevice> {
  const inventory = await client.hosts.inventory();
  const device = inventory.devices.find((d) => d.name === name);
  if (!device) throw new AdminError('ERR_NO_HOST', `no device named ${name} in the inventory: see atest hosts`);
  return device;
}

export async function lockHost(client: SchedulerClient, name: string, by: string, reason: string): Promise<void> {
  await knownDevice(client, name);
  if (!reason.trim()) throw new AdminError('ERR_LOCK_REASON', `say why ${name} is locked: atest lock ${name} --reason '...'`);
  await client.hosts.lock(name, by, reason);
}

export async function unlockHost(client: SchedulerClient, name: string): Promise<void> {
  await knownDevice(client, name);
  await client.hosts.unlock(name);
}

/** Verifies the device from here; when it answers, it takes jobs again. Returns why not, when it does not. */
export async function repairHost(client: SchedulerClient, name: string): Promise<string | undefined> {
  const device = await knownDevice(client, name);
  const inventory = await client.hosts.inventory();
  setDefaultHostOptions({
    ...(device.key ? { sshKey: device.key } : {}),
    ...(inventory.knownHosts ? { knownHostsFile: inventory.knownHosts } : {}),
    acceptNewHostKeys: false,
  });
  const why = await verifyDevice(machineName(device), { timeoutSec: 10 });
  if (!why) await client.hosts.repaired(name);
  return why;
}
