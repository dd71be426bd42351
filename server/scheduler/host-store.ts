/**
 * The inventory as the scheduler holds it (published to Redis by `atest inventory load`, so every drone and
 * `atest` see the same one) and each device's state: locked by a person, or needing repair. A locked or
 * broken device is in the `unusable` set the lease script skips.
 */
import type { Redis } from 'ioredis';
import { AutotestError } from '../../lib/errors.js';
import type { Inventory } from './inventory.js';
import { keys } from './redis-keys.js';
import type { HostRecord } from './records.js';

export class HostStateError extends AutotestError {}

/** Sets or clears one state field (locked|repair) and keeps the unusable set in step, atomically. */
const SET_STATE = `
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
if redis.call('HLEN', KEYS[1]) > 0 then redis.call('SADD', KEYS[2], ARGV[3]) else redis.call('SREM', KEYS[2], ARGV[3]) end
return 1
`;

export class HostStore {
  constructor(private readonly redis: Redis) {}

  async publishInventory(inventory: Inventory): Promise<void> {
    const gateways = inventory.devices.flatMap((d) => [d.name, d.drone]);
    const multi = this.redis.multi().set(keys.inventory, JSON.stringify(inventory)).del(keys.gateways);
    if (gateways.length) multi.hset(keys.gateways, ...gateways);
    await multi.exec();
  }

  /** The published inventory; throws a one-line error when none was loaded yet. */
  async inventory(): Promise<Inventory> {
    const text = await this.redis.get(keys.inventory);
    if (!text) throw new HostStateError('ERR_NO_INVENTORY', 'no inventory loaded: run atest inventory load FILE first');
    return JSON.parse(text) as Inventory;
  }

  async inventoryIfLoaded(): Promise<Inventory | undefined> {
    const text = await this.redis.get(keys.inventory);
    return text ? (JSON.parse(text) as Inventory) : undefined;
  }

  private async setState(device: string, field: 'locked' | 'repair', value: object | null): Promise<void> {
    await this.redis.eval(SET_STATE, 2, keys.hostState(device), keys.unusable, field, value ? JSON.stringify(value) : '', device);
  }

  async lock(device: string, by: string, reason: string): Promise<void> {
    await this.setState(device, 'locked', { by, reason, since: new Date().toISOString() });
  }

  async unlock(device: string): Promise<void> {
    await this.setState(device, 'locked', null);
  }

  async needsRepair(device: string, reason: string): Promise<void> {
    await this.setState(device, 'repair', { reason, since: new Date().toISOString() });
  }

  async repaired(device: string): Promise<void> {
    await this.setState(device, 'repair', null);
  }

  async list(): Promise<HostRecord[]> {
    const inventory = await this.inventoryIfLoaded();
    if (!inventory) return [];
    const names = inventory.devices.map((d) => d.name);
    const pipeline = this.redis.pipeline();
    for (const name of names) pipeline.hgetall(keys.hostState(name)).get(keys.lease(name)).pttl(keys.lease(name)).hget(keys.leaseInfo, name);
    const replies = ((await pipeline.exec()) ?? []).map(([, value]) => value);
    return inventory.devices.map((device, index) => {
      const [state, leaseJob, ttl, info] = replies.slice(index * 4, index * 4 + 4) as [Record<string, string>, string | null, number, string | null];
      const leaseInfo = info ? (JSON.parse(info) as { jobId: string; drone: string; since: string }) : undefined;
      return {
        name: device.name,
        address: device.address,
        labels: device.labels,
        drone: device.drone,
        lease:
          leaseJob && ttl > 0
            ? {
                jobId: leaseJob,
                drone: leaseInfo?.jobId === leaseJob ? leaseInfo.drone : '',
                since: leaseInfo?.jobId === leaseJob ? leaseInfo.since : '',
                expiresAt: new Date(Date.now() + ttl).toISOString(),
              }
            : null,
        locked: state.locked ? (JSON.parse(state.locked) as HostRecord['locked']) : null,
        repair: state.repair ? (JSON.parse(state.repair) as HostRecord['repair']) : null,
      };
    });
  }
}
