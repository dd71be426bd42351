/**
 * Device leases: which job holds which device. A lease is a Redis key holding the job id with a TTL the drone
 * renews while the job runs ("the running task is the lease", as in Swarming), so a dead drone's devices come
 * free by themselves within one lease period.
 *
 * Taking devices is one Lua script, so no device is ever in two jobs. It walks the jobs waiting for devices in
 * rank order (higher priority first, then older first); each job ranked ahead of the caller keeps, out of the
 * free devices it could use, as many as it needs. That is both priority (a high-priority job's devices are
 * not taken by lower ones) and fairness for multi-device jobs: once a job needing N devices is ahead, devices
 * that come free are held for it instead of going to single-device jobs behind it. Jobs behind may still take
 * devices nobody ahead can use (backfill).
 */
import type { Redis } from 'ioredis';
import { keys } from './redis-keys.js';

export interface DeviceWant {
  count: number;
  /** Device names that match the job's labels or names. */
  candidates: string[];
  needsGateway: boolean;
}

/** Lower runs first: priority (0..100, higher first), then submit time. */
export function rankOf(priority: number, submittedAtMs: number): number {
  return (100 - priority) * 1e13 + submittedAtMs;
}

const ACQUIRE = `
local waiting, unusable, gateways, leaseInfo = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local jobId, rank, wantJson, drone, leaseMs, now, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
redis.call('SET', prefix .. ':want:' .. jobId, wantJson)
redis.call('ZADD', waiting, 'NX', rank, jobId)
local free = {}
local function isFree(d)
  local known = free[d]
  if known ~= nil then return known end
  local f = redis.call('EXISTS', prefix .. ':lease:' .. d) == 0 and redis.call('SISMEMBER', unusable, d) == 0
  free[d] = f
  return f
end
local held = {}
local function available(want, onlyDrone)
  local list = {}
  for _, d in ipairs(want.candidates) do
    if not held[d] and isFree(d) and (onlyDrone == nil or redis.call('HGET', gateways, d) == onlyDrone) then
      list[#list + 1] = d
    end
  end
  return list
end
local want = cjson.decode(wantJson)
local gatewayDrone = nil
if want.needsGateway then gatewayDrone = drone end
-- Too few of its devices free: nothing to weigh, whoever is ahead (the common case in a busy lab).
local mine = available(want, gatewayDrone)
if #mine < want.count then
  -- Free on another drone: that drone can run it now (the caller retries it at once, not after a back-off).
  if gatewayDrone ~= nil and #available(want, nil) >= want.count then return { '@other-drone' } end
  return {}
end
local isMine, left = {}, #mine
for _, d in ipairs(mine) do isMine[d] = true end
for _, other in ipairs(redis.call('ZRANGE', waiting, 0, -1)) do
  if other == jobId then break end
  local text = redis.call('GET', prefix .. ':want:' .. other)
  if text then
    local ahead = cjson.decode(text)
    local list = available(ahead, nil)
    for i = 1, math.min(#list, ahead.count) do
      held[list[i]] = true
      if isMine[list[i]] then left = left - 1 end
    end
    if left < want.count then return {} end
  end
end
local list = available(want, gatewayDrone)
local taken = {}
for i = 1, want.count do
  local d = list[i]
  redis.call('SET', prefix .. ':lease:' .. d, jobId, 'PX', leaseMs)
  redis.call('HSET', leaseInfo, d, cjson.encode({ jobId = jobId, drone = drone, since = now }))
  taken[#taken + 1] = d
end
redis.call('ZREM', waiting, jobId)
redis.call('DEL', prefix .. ':want:' .. jobId)
return taken
`;

/** ARGV[1] job id, ARGV[2] lease ms ('' to release), ARGV[3] prefix; KEYS[1] lease info; returns how many it touched. */
const RENEW_OR_RELEASE = `
local n = 0
for i = 4, #ARGV do
  local key = ARGV[3] .. ':lease:' .. ARGV[i]
  if redis.call('GET', key) == ARGV[1] then
    if ARGV[2] == '' then
      redis.call('DEL', key)
      redis.call('HDEL', KEYS[1], ARGV[i])
    else
      redis.call('PEXPIRE', key, ARGV[2])
    end
    n = n + 1
  end
end
return n
`;

const PREFIX = keys.lease('x').slice(0, -':lease:x'.length);

export class DeviceLeases {
  constructor(private readonly redis: Redis) {}

  /**
   * Registers the job as waiting (idempotent) and takes its devices if its turn has come: `devices` is empty
   * when not, and `elsewhere` says its devices are free but only another (gateway) drone may use them.
   */
  async acquire(jobId: string, rank: number, want: DeviceWant, drone: string, leaseMs: number): Promise<{ devices: string[]; elsewhere: boolean }> {
    const reply = (await this.redis.eval(
      ACQUIRE,
      4,
      keys.waiting,
      keys.unusable,
      keys.gateways,
      keys.leaseInfo,
      jobId,
      String(rank),
      JSON.stringify(want),
      drone,
      String(leaseMs),
      new Date().toISOString(),
      PREFIX,
    )) as string[];
    return reply[0] === '@other-drone' ? { devices: [], elsewhere: true } : { devices: reply, elsewhere: false };
  }

  /** Registers a job as waiting for devices without taking any (at submit, so it is ranked at once). */
  async register(jobId: string, rank: number, want: DeviceWant): Promise<void> {
    await this.redis.multi().set(keys.want(jobId), JSON.stringify(want)).zadd(keys.waiting, 'NX', rank, jobId).exec();
  }

  /** The job no longer waits (cancelled, finished). */
  async unregister(jobId: string): Promise<void> {
    await this.redis.multi().zrem(keys.waiting, jobId).del(keys.want(jobId)).exec();
  }

  /** Extends the job's leases; returns how many it still held. */
  async renew(jobId: string, devices: readonly string[], leaseMs: number): Promise<number> {
    return (await this.redis.eval(RENEW_OR_RELEASE, 1, keys.leaseInfo, jobId, String(leaseMs), PREFIX, ...devices)) as number;
  }

  /** Frees the devices the job still holds. */
  async release(jobId: string, devices: readonly string[]): Promise<number> {
    return (await this.redis.eval(RENEW_OR_RELEASE, 1, keys.leaseInfo, jobId, '', PREFIX, ...devices)) as number;
  }

  /** The first waiting jobs (rank order) that could use one of these devices: who to wake when they come free. */
  async nextWaiting(devices: readonly string[], limit: number): Promise<string[]> {
    const ids = await this.redis.zrange(keys.waiting, 0, 199);
    const wake: string[] = [];
    for (const id of ids) {
      const text = await this.redis.get(keys.want(id));
      if (!text) continue;
      const want = JSON.parse(text) as DeviceWant;
      if (want.candidates.some((d) => devices.includes(d))) wake.push(id);
      if (wake.length >= limit) break;
    }
    return wake;
  }
}
