/**
 * What the scheduler stores about jobs and devices, as `atest`, the drones and the web view read it. These are
 * plain JSON records kept in Redis next to BullMQ's own job hashes (BullMQ holds the queue; these hold the
 * history a user asks about: attempts, retries and their reasons, where the results went).
 */

export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'GOOD', 'FAIL', 'ERROR', 'ABORT', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job never leaves. */
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['GOOD', 'FAIL', 'ERROR', 'ABORT', 'CANCELLED']);

/** One run of a job on a device set; a job has several when the infrastructure made it retry. */
export interface JobAttempt {
  /** 1, 2, … */
  number: number;
  drone: string;
  /** Device names leased for this attempt. */
  machines: string[];
  startedAt: string;
  endedAt?: string;
  /** The attempt's outcome; `BOT_DIED` when its drone stopped heartbeating, `DEVICE_DEAD` when a device failed verify. */
  status: JobStatus | 'BOT_DIED' | 'DEVICE_DEAD' | 'REQUEUED';
  /** True when the attempt ended because of the lab (drone died, device dead, drone stopped), not the test. */
  infrastructure: boolean;
  reason?: string;
}

export interface JobRecord {
  id: string;
  /** The test name (`dummy_Pass`) or the control file's base name. */
  name: string;
  user: string;
  /** A test name (resolved by the drone) or an absolute control file path. */
  control: string;
  /** The `-a` string. */
  args: string;
  /** Device names the user asked for (empty: any device with the labels). */
  targets: string[];
  /** `key=value` labels every device must have. */
  labels: string[];
  /** How many devices the job needs. */
  count: number;
  /** Higher runs first (autotest's convention); 0..1000, default 50. */
  priority: number;
  /** Seconds before the drone aborts the job; 0 for none. */
  timeoutSec: number;
  /** The job must run on its devices' gateway drone (Recall's iptables run there). */
  needsGateway: boolean;
  status: JobStatus;
  /** One line saying why the job ended as it did (or why it waits). */
  reason?: string;
  /** The drone of the current or last attempt. */
  drone?: string;
  /** Device names of the current or last attempt. */
  machines: string[];
  submittedAt: string;
  startedAt?: string;
  endedAt?: string;
  attempts: JobAttempt[];
  /** Where the results are: the results store's URL for the job, or a folder. */
  resultsUrl?: string;
  /** Set by `atest cancel` while the job runs; the drone stops it. */
  cancelRequested?: boolean;
}

export interface HostLease {
  jobId: string;
  drone: string;
  since: string;
  expiresAt: string;
}

export interface HostRecord {
  name: string;
  address: string;
  labels: Record<string, string>;
  /** The device's gateway drone. */
  drone: string;
  lease: HostLease | null;
  locked: { by: string; reason: string; since: string } | null;
  repair: { reason: string; since: string } | null;
}

/** A drone as its heartbeat describes it; `alive` is false once the heartbeat lapsed (two lease periods). */
export interface DroneRecord {
  name: string;
  alive: boolean;
  host?: string;
  pid?: number;
  /** Ids of the jobs it runs. */
  running: string[];
  maxJobs?: number;
  /** Its last heartbeat. */
  at?: string;
}

/** Infrastructure retries of a job: attempts that ended because of the lab, not the test. */
export function infrastructureRetries(record: JobRecord): JobAttempt[] {
  return record.attempts.filter((attempt) => attempt.infrastructure);
}
