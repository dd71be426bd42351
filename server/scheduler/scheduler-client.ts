/**
 * Read access to the scheduler for the web view and `atest`: jobs, devices, and the BullMQ queue (for Bull
 * Board). Everything lives in Redis, so any number of readers may connect.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { HostStore } from './host-store.js';
import { JobStore } from './job-store.js';
import { connectRedis } from './redis-connection.js';
import { keys, QUEUE_NAME } from './redis-keys.js';
import type { DroneRecord, HostRecord, JobRecord } from './records.js';

export interface JobFilter {
  status?: string;
  user?: string;
  /** `key=value`: jobs that asked for that label. */
  label?: string;
  /** Jobs submitted at or after this time. */
  since?: Date;
}

export class SchedulerClient {
  readonly jobs: JobStore;
  readonly hosts: HostStore;
  private readonly queue: Queue;
  private closed = false;

  private constructor(readonly redis: Redis, readonly redisUrl: string) {
    this.jobs = new JobStore(redis);
    this.hosts = new HostStore(redis);
    this.queue = new Queue(QUEUE_NAME, { connection: redis });
    // Connection trouble surfaces through the calls that fail; ioredis reconnects by itself.
    this.queue.on('error', () => {});
  }

  /** Connects; an unreachable Redis fails in one line naming the URL. */
  static async connect(redisUrl: string): Promise<SchedulerClient> {
    return new SchedulerClient(await connectRedis(redisUrl, { name: 'atest-client' }), redisUrl);
  }

  /** Newest first. */
  async listJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    const all = await this.jobs.list();
    return all.filter(
      (job) =>
        (!filter.status || job.status === filter.status.toUpperCase()) &&
        (!filter.user || job.user === filter.user) &&
        (!filter.label || job.labels.includes(filter.label)) &&
        (!filter.since || Date.parse(job.submittedAt) >= filter.since.getTime()),
    );
  }

  getJob(id: string): Promise<JobRecord | undefined> {
    return this.jobs.get(id);
  }

  listHosts(): Promise<HostRecord[]> {
    return this.hosts.list();
  }

  /** Every drone that ever sent a heartbeat, with its running jobs while it is alive. */
  async listDrones(): Promise<DroneRecord[]> {
    const names = (await this.redis.smembers(keys.drones)).sort();
    const beats = names.length ? await this.redis.mget(names.map((name) => keys.drone(name))) : [];
    return names.map((name, i) => {
      const beat = beats[i] ? (JSON.parse(beats[i]!) as Omit<DroneRecord, 'alive'>) : undefined;
      return beat ? { ...beat, name, alive: true } : { name, alive: false, running: [] };
    });
  }

  /** The BullMQ queues, for Bull Board. */
  queues(): Queue[] {
    return [this.queue];
  }

  /** The queue used to submit and cancel. */
  get jobQueue(): Queue {
    return this.queue;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
