/**
 * A drone: a BullMQ worker that runs jobs through autoserv, several at once (one per leased device set).
 * For each job BullMQ hands it, the drone takes the job's devices (device-leases.ts) or, when its turn has not
 * come, puts the job back as delayed; runs autoserv; verifies the devices of a failed job; delivers the results;
 * records the outcome; frees the devices and wakes the jobs next in line for them. A heartbeat renews the
 * leases and notices cancellations. A job BullMQ hands back because its drone died (the lock lapsed) is
 * recorded as an infrastructure retry (BOT_DIED) and run once more, or ABORTed with the reason.
 */
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { reasonOf, TestAbort } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/logging.js';
import { retrySpooled } from '../results-server/results-uploader.js';
import { DeviceLeases, rankOf } from './device-leases.js';
import { HostStore } from './host-store.js';
import { isFinal, JobStore } from './job-store.js';
import { connectRedis, redisOptions } from './redis-connection.js';
import { keys, QUEUE_NAME } from './redis-keys.js';
import type { JobAttempt, JobRecord } from './records.js';
import { runAttempt, type RunningJob } from './attempt-runner.js';
import { isStoreUrl } from './results-delivery.js';
import { wantOf } from './submit.js';

/** Infrastructure failures (drone died, device dead) a job survives before it is ABORTed. */
export const MAX_INFRASTRUCTURE_RETRIES = 1;

export interface DroneOptions {
  redisUrl: string;
  name: string;
  /** Results store URL (`http://…`) or folder. */
  results: string;
  /** Upload token for the results store. */
  token?: string;
  /** Working folder: results being written, the upload spool. */
  stateDir: string;
  /** Lease and BullMQ lock period; renewed every third of it. @default 30000 */
  leaseMs?: number;
  /** Jobs run at once. @default 8 */
  maxJobs?: number;
  /** First delay before a job that could not get its devices is tried again (doubles, up to 8x). @default 500 */
  retryMs?: number;
  logger?: Logger;
}

type Data = Omit<JobRecord, 'id'>;

export class Drone {
  readonly name: string;
  readonly leaseMs: number;
  private readonly jobs: JobStore;
  private readonly hosts: HostStore;
  private readonly leases: DeviceLeases;
  private readonly queue: Queue;
  private worker!: Worker<Data>;
  private readonly running = new Map<string, RunningJob>();
  private heartbeat?: NodeJS.Timeout;
  private beats = 0;
  private stopping?: Promise<void>;
  private readonly spool: AbortController = new AbortController();
  private readonly logger: Logger;

  private constructor(private readonly options: DroneOptions, private readonly redis: Redis) {
    this.name = options.name;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.logger = (options.logger ?? silentLogger).child({ drone: options.name });
    this.jobs = new JobStore(redis);
    this.hosts = new HostStore(redis);
    this.leases = new DeviceLeases(redis);
    this.queue = new Queue(QUEUE_NAME, { connection: redis });
  }

  static async start(options: DroneOptions): Promise<Drone> {
    const redis = await connectRedis(options.redisUrl, { name: `drone-${options.name}:${process.pid}` });
    const drone = new Drone(options, redis);
    await mkdir(drone.workDir, { recursive: true });
    if (isStoreUrl(options.results)) {
      void retrySpooled({ storeUrl: options.results, token: options.token ?? '', spoolDir: drone.spoolDir, logger: drone.logger, signal: drone.spool.signal }).catch(
        (error: unknown) => drone.logger.error({ err: error }, 'cannot retry spooled results'),
      );
    }
    drone.worker = new Worker<Data>(QUEUE_NAME, (job, token) => drone.process(job, token), {
      connection: { ...redisOptions(options.redisUrl), maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 100, 1000) },
      concurrency: options.maxJobs ?? 8,
      lockDuration: drone.leaseMs,
      stalledInterval: drone.leaseMs,
      // The drone counts infrastructure retries itself (BOT_DIED); BullMQ must not fail a stalled job first.
      maxStalledCount: 10,
      drainDelay: 1,
      name: options.name,
    });
    drone.worker.on('error', (error) => drone.logger.warn({ err: error }, 'queue connection trouble'));
    drone.heartbeat = setInterval(() => void drone.beat(), Math.max(100, Math.floor(drone.leaseMs / 3)));
    await drone.beat();
    drone.logger.info({ leaseMs: drone.leaseMs, maxJobs: options.maxJobs ?? 8 }, `drone ${options.name} ready`);
    return drone;
  }

  get workDir(): string {
    return join(resolve(this.options.stateDir), 'drones', this.name);
  }

  get spoolDir(): string {
    return join(this.workDir, 'spool');
  }

  /** Ids of the jobs running now. */
  runningJobs(): string[] {
    return [...this.running.keys()];
  }

  private async process(job: Job<Data>, token?: string): Promise<void> {
    try {
      await this.processJob(job, token);
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      this.logger.error({ err: error, job: job.id }, 'job failed inside the drone');
      await this.jobs.update(job.id!, { status: 'ERROR', reason: `drone ${this.name}: ${reasonOf(error)}`, endedAt: new Date().toISOString() }, { unlessFinal: true });
      await this.leases.unregister(job.id!);
    }
  }

  private async processJob(job: Job<Data>, token?: string): Promise<void> {
    const id = job.id!;
    let record = await this.jobs.create({ ...job.data, id });
    if (isFinal(record)) return void (await this.leases.unregister(id));
    if (record.cancelRequested) return this.end(record, { status: 'CANCELLED', reason: 'cancelled before it started' });
    if (record.status === 'RUNNING') {
      // BullMQ handed the job back: the drone running it stopped renewing its lock (killed, or cut off).
      const last = record.attempts.at(-1);
      const died: JobAttempt = {
        ...(last ?? { number: record.attempts.length + 1, drone: record.drone ?? '?', machines: record.machines, startedAt: record.startedAt ?? '' }),
        status: 'BOT_DIED',
        infrastructure: true,
        endedAt: new Date().toISOString(),
        reason: `drone ${last?.drone ?? record.drone ?? '?'} stopped renewing its lease during attempt ${last?.number ?? '?'} (killed or cut off from Redis)`,
      };
      if (this.failures(record) + 1 > MAX_INFRASTRUCTURE_RETRIES) {
        return this.end(record, { status: 'ABORT', reason: `${died.reason}; not retried again after ${MAX_INFRASTRUCTURE_RETRIES} infrastructure retry` }, died);
      }
      record = (await this.jobs.update(id, { status: 'QUEUED', reason: `retrying: ${died.reason}` }, { attempt: died })) ?? record;
    }
    const inventory = await this.hosts.inventory();
    const want = wantOf(record, inventory);
    if (want.candidates.length < want.count) {
      return this.end(record, { status: 'ERROR', reason: `the inventory has ${want.candidates.length} devices for this job, it needs ${want.count}` });
    }
    const { devices, elsewhere } = await this.leases.acquire(id, rankOf(record.priority, Date.parse(record.submittedAt)), want, this.name, this.leaseMs);
    if (devices.length === 0) {
      await this.sayWhyWaiting(record, want);
      // Its gateway drone can run it now: back in the queue at once. Otherwise wait, longer each time.
      const delay = elsewhere ? 20 : (this.options.retryMs ?? 500) * 2 ** Math.min(3, Math.max(0, job.attemptsStarted - 1));
      await job.moveToDelayed(Date.now() + delay, token);
      throw new DelayedError();
    }
    const run: RunningJob = { id, devices, controller: new AbortController() };
    this.running.set(id, run);
    try {
      const outcome = await runAttempt({ record, devices, inventory, drone: this.name, run, workDir: this.workDir, jobs: this.jobs, hosts: this.hosts, logger: this.logger, results: this.resultsTarget() });
      if (outcome === 'requeue') {
        await this.leases.release(id, devices);
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      if (outcome === 'lease-lost') {
        // Still holding BullMQ's lock: nobody else took the job, so it goes back to the queue. Without it,
        // BullMQ already handed the job to another drone, which records this attempt as BOT_DIED.
        const requeued = await job.moveToDelayed(Date.now() + 1000, token).then(() => true, () => false);
        if (requeued) {
          await this.jobs.update(id, { status: 'QUEUED', reason: 'requeued: its drone lost the device leases' }, { unlessFinal: true });
          throw new DelayedError();
        }
      }
    } finally {
      this.running.delete(id);
      await this.leases.release(id, devices).catch(() => 0);
      await this.wake(devices);
    }
  }

  /** A job that cannot run because its devices are locked or broken says so (`atest show`), instead of waiting silently. */
  private async sayWhyWaiting(record: JobRecord, want: { count: number; candidates: string[] }): Promise<void> {
    const unusable = new Set(await this.redis.smembers(keys.unusable));
    const blocked = want.candidates.filter((d) => unusable.has(d));
    const reason =
      want.candidates.length - blocked.length < want.count
        ? `waiting: ${blocked.join(', ')} ${blocked.length === 1 ? 'is' : 'are'} locked or need${blocked.length === 1 ? 's' : ''} repair (atest hosts)`
        : undefined;
    if (reason && record.reason !== reason) await this.jobs.update(record.id, { reason }, { unlessFinal: true });
    if (!reason && record.reason?.startsWith('waiting: ')) await this.jobs.update(record.id, { reason: null }, { unlessFinal: true });
  }

  private resultsTarget() {
    return { store: this.options.results, token: this.options.token, spoolDir: this.spoolDir, logger: this.logger, signal: this.spool.signal };
  }

  /** Infrastructure failures so far. */
  private failures(record: JobRecord): number {
    return record.attempts.filter((a) => a.status === 'BOT_DIED' || a.status === 'DEVICE_DEAD').length;
  }

  private async end(record: JobRecord, outcome: { status: JobRecord['status']; reason: string }, attempt?: JobAttempt): Promise<void> {
    await this.jobs.update(record.id, { ...outcome, endedAt: new Date().toISOString() }, { unlessFinal: true, ...(attempt ? { attempt } : {}) });
    await this.leases.unregister(record.id);
  }

  /** Devices came free: the jobs first in line for them get out of their delay at once. */
  private async wake(devices: readonly string[]): Promise<void> {
    try {
      for (const id of await this.leases.nextWaiting(devices, devices.length + 1)) {
        const job = await this.queue.getJob(id);
        if (job && (await job.isDelayed())) await job.promote().catch(() => {});
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot wake waiting jobs');
    }
  }

  private async beat(): Promise<void> {
    this.beats += 1;
    try {
      for (const run of this.running.values()) {
        const held = await this.leases.renew(run.id, run.devices, this.leaseMs);
        if (held < run.devices.length && !run.stop) {
          // Another job may have the devices now: stop at once rather than share them.
          this.logger.warn({ job: run.id, held }, 'lost a device lease (Redis unreachable for longer than a lease?): stopping the job');
          run.stop = 'lease-lost';
          run.controller.abort(new TestAbort(`drone ${this.name} lost the lease on ${run.devices.join(', ')} (Redis unreachable for longer than a lease period)`));
        }
        const record = await this.jobs.get(run.id);
        if (record?.cancelRequested && !run.stop) {
          run.stop = 'cancel';
          run.controller.abort(new TestAbort(record.reason ?? 'cancelled'));
        }
      }
      const info = { name: this.name, host: hostname(), pid: process.pid, running: this.runningJobs(), maxJobs: this.options.maxJobs ?? 8, at: new Date().toISOString() };
      await this.redis.multi().set(keys.drone(this.name), JSON.stringify(info), 'PX', this.leaseMs * 2).sadd(keys.drones, this.name).exec();
      if (this.beats % 10 === 0) await this.sweepWaiting();
    } catch (error) {
      this.logger.warn({ err: error }, 'heartbeat failed');
    }
  }

  /** Jobs that ended while ranked as waiting (cancelled, removed) must not hold devices. */
  private async sweepWaiting(): Promise<void> {
    for (const id of await this.redis.zrange(keys.waiting, 0, -1)) {
      const record = await this.jobs.get(id);
      if (!record || isFinal(record)) await this.leases.unregister(id);
    }
  }

  /**
   * Stops taking jobs and waits for the running ones to finish; with `requeue`, stops them and puts them back
   * in the queue for another drone (recorded as an infrastructure attempt, not a failure).
   */
  stop(options: { requeue?: boolean } = {}): Promise<void> {
    if (options.requeue) {
      for (const run of this.running.values()) {
        run.stop = 'requeue';
        run.controller.abort(new TestAbort(`drone ${this.name} is stopping: job requeued`));
      }
    }
    this.stopping ??= (async () => {
      await this.worker.close();
      clearInterval(this.heartbeat);
      this.spool.abort();
      await this.redis.del(keys.drone(this.name)).catch(() => 0);
      await this.queue.close();
      await this.redis.quit().catch(() => this.redis.disconnect());
    })();
    return this.stopping;
  }
}
