/**
 * One attempt of a job on its leased devices: autoserv (the same function run-remote calls) on the devices'
 * machine names, with the job's timeout and cancellation; then, when it did not pass, verify the devices (a
 * dead one is marked for repair and the job retried once elsewhere); then results delivered and the outcome
 * recorded.
 */
import { join } from 'node:path';
import { reasonOf } from '../../lib/errors.js';
import { writeKeyval } from '../../lib/keyval.js';
import type { Logger } from '../../lib/logging.js';
import { autoserv, EXIT } from '../autoserv.js';
import { setDefaultHostOptions } from '../hosts/index.js';
import { verifyDevice } from './device-verify.js';
import type { HostStore } from './host-store.js';
import { machineName, type Inventory } from './inventory.js';
import type { JobStore } from './job-store.js';
import type { JobAttempt, JobRecord, JobStatus } from './records.js';
import { deliverResults, type ResultsTarget } from './results-delivery.js';

export interface RunningJob {
  id: string;
  devices: string[];
  controller: AbortController;
  /** Why the drone stopped it, when it did. */
  stop?: 'cancel' | 'timeout' | 'requeue' | 'lease-lost';
}

export interface AttemptContext {
  record: JobRecord;
  devices: string[];
  inventory: Inventory;
  drone: string;
  run: RunningJob;
  workDir: string;
  jobs: JobStore;
  hosts: HostStore;
  logger: Logger;
  results: ResultsTarget;
}

/** Every drone job reaches devices with the inventory's keys and known_hosts (user and port are in the machine names). */
function applySshDefaults(inventory: Inventory): void {
  const sshKey = [...new Set(inventory.devices.flatMap((d) => (d.key ? [d.key] : [])))];
  setDefaultHostOptions({
    ...(sshKey.length ? { sshKey } : {}),
    ...(inventory.knownHosts ? { knownHostsFile: inventory.knownHosts } : {}),
    acceptNewHostKeys: false,
  });
}

function statusOf(exitCode: number, stop: RunningJob['stop']): JobStatus {
  if (exitCode === EXIT.passed) return 'GOOD';
  if (exitCode === EXIT.testFailed) return 'FAIL';
  if (exitCode === EXIT.interrupted) return stop === 'cancel' ? 'CANCELLED' : 'ABORT';
  return 'ERROR';
}

/**
 * Runs the attempt and records it; 'requeue' when the job must go back to the queue (drone stopping, dead
 * device); 'lease-lost' when the drone lost its devices' leases (Redis away longer than a lease) and stopped.
 */
export async function runAttempt(context: AttemptContext): Promise<'done' | 'requeue' | 'lease-lost'> {
  const { record, devices, inventory, run, jobs } = context;
  const byName = new Map(inventory.devices.map((d) => [d.name, d]));
  const machines = devices.map((name) => machineName(byName.get(name)!));
  const number = record.attempts.length + 1;
  const startedAt = new Date().toISOString();
  const attempt: JobAttempt = { number, drone: context.drone, machines: devices, startedAt, status: 'RUNNING', infrastructure: false };
  await jobs.update(record.id, { status: 'RUNNING', drone: context.drone, machines: devices, startedAt: record.startedAt ?? startedAt, reason: null }, { attempt });
  const logger = context.logger.child({ job: record.id, attempt: number });
  logger.info({ machines }, `running ${record.name}`);

  const timer =
    record.timeoutSec > 0
      ? setTimeout(() => {
          run.stop = 'timeout';
          run.controller.abort(new Error(`timed out after ${record.timeoutSec} s`));
        }, record.timeoutSec * 1000)
      : undefined;
  const resultsDir = join(context.workDir, 'results', `${record.id}.${number}`);
  let status: JobStatus;
  let reason: string | undefined;
  try {
    applySshDefaults(inventory);
    const result = await autoserv({ control: record.control, machines, resultsDir, args: record.args, label: record.id, signal: run.controller.signal });
    status = statusOf(result.exitCode, run.stop);
    const firstBad = result.summary.tests.find((t) => t.status !== 'GOOD' && t.reason);
    reason = result.exitCode === EXIT.interrupted ? reasonOf(run.controller.signal.reason) : (result.summary.job.error ?? firstBad?.reason);
  } catch (error) {
    status = 'ERROR';
    reason = reasonOf(error);
  } finally {
    clearTimeout(timer);
  }
  const endedAt = new Date().toISOString();

  if (run.stop === 'requeue') {
    await jobs.update(record.id, { status: 'QUEUED', reason: reason ?? 'requeued' }, { attempt: { ...attempt, status: 'REQUEUED', infrastructure: true, endedAt, reason } });
    return 'requeue';
  }
  if (run.stop === 'lease-lost') {
    // Only this attempt's entry: another drone may own the job by now; the caller requeues it if it still can.
    await jobs.update(record.id, {}, { attempt: { ...attempt, status: 'REQUEUED', infrastructure: true, endedAt, reason } });
    return 'lease-lost';
  }
  // A test that failed or broke may have met a dead device; one the drone stopped (timeout, cancel) did not say so.
  if ((status === 'FAIL' || status === 'ERROR' || status === 'ABORT') && !run.stop) {
    const dead = (await Promise.all(machines.map(async (machine, i) => ({ device: devices[i]!, why: await verifyDevice(machine) })))).filter((d) => d.why);
    for (const { device, why } of dead) {
      logger.warn({ device, reason: why }, 'device needs repair');
      await context.hosts.needsRepair(device, why!);
    }
    const infrastructureFailures = record.attempts.filter((a) => a.status === 'BOT_DIED' || a.status === 'DEVICE_DEAD').length;
    if (dead.length > 0) {
      const why = dead.map((d) => d.why).join('; ');
      if (infrastructureFailures < 1) {
        await jobs.update(record.id, { status: 'QUEUED', reason: `retrying: ${why}` }, { attempt: { ...attempt, status: 'DEVICE_DEAD', infrastructure: true, endedAt, reason: `${status}: ${reason ?? ''}; ${why}` } });
        return 'requeue';
      }
      reason = `${reason ?? status}; ${why}`;
    }
  }
  let resultsUrl: string | undefined;
  try {
    // The results say which attempt they are and why earlier ones did not count (as Swarming's BOT_DIED shows).
    const retries = record.attempts.filter((a) => a.infrastructure);
    await writeKeyval(join(resultsDir, 'keyval'), {
      scheduler_job: record.id,
      scheduler_attempt: number,
      scheduler_drone: context.drone,
      scheduler_infrastructure_retries: retries.length,
      ...(retries.length ? { scheduler_retry_reasons: retries.map((a) => `#${a.number} ${a.status}: ${a.reason ?? ''}`).join('; ').replace(/[\r\n]+/g, ' ') } : {}),
    });

    resultsUrl = await deliverResults(context.results, record.id, resultsDir);
  } catch (error) {
    logger.error({ err: error }, 'cannot deliver results');
    reason = `${reason ?? status}; results kept on drone ${context.drone} in ${resultsDir}: ${reasonOf(error)}`;
  }
  await jobs.update(
    record.id,
    { status, reason: reason ?? null, endedAt, ...(resultsUrl ? { resultsUrl } : {}), cancelRequested: null },
    { attempt: { ...attempt, status, endedAt, ...(reason ? { reason } : {}) } },
  );
  logger.info({ status, reason }, `${record.name} ended ${status}`);
  return 'done';
}
