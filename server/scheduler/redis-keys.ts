/** Every Redis key the scheduler uses besides BullMQ's own (`bull:atest:*`), in one place. */
export const QUEUE_NAME = 'atest';
const P = 'atest';

export const keys = {
  /** The number in job ids (`42-alice`). */
  nextId: `${P}:next-id`,
  jobIndex: `${P}:jobs`, // ZSET jobId → submit time (ms)
  job: (id: string) => `${P}:job:${id}`, // JSON JobRecord
  /** Jobs waiting for devices, ranked: lower score first (priority, then submit time). */
  waiting: `${P}:waiting`,
  want: (id: string) => `${P}:want:${id}`, // JSON { count, candidates, needsGateway }
  lease: (device: string) => `${P}:lease:${device}`, // jobId, with a TTL the drone renews
  leaseInfo: `${P}:lease-info`, // HASH device → JSON { jobId, drone, since }
  /** Devices that must not get jobs: locked or needing repair. */
  unusable: `${P}:unusable`, // SET
  hostState: (device: string) => `${P}:host:${device}`, // HASH locked, repair (JSON)
  inventory: `${P}:inventory`, // JSON Inventory
  gateways: `${P}:gateways`, // HASH device → drone
  drone: (name: string) => `${P}:drone:${name}`, // JSON heartbeat, with a TTL
  drones: `${P}:drones`, // SET of drone names ever seen
} as const;
