/**
 * Job records in Redis: one JSON value per job plus an index by submit time. Updates are one Lua script
 * (read, merge, write) so a drone finishing a job and a user cancelling it never overwrite each other.
 */
import type { Redis } from 'ioredis';
import { keys } from './redis-keys.js';
import { FINAL_STATUSES, type JobAttempt, type JobRecord } from './records.js';

/** Shallow-merges a patch (null deletes a field), replaces or appends one attempt; ARGV[3]='1' refuses final records. */
const UPDATE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return nil end
local record = cjson.decode(current)
if ARGV[3] == '1' then
  local s = record.status
  if s == 'GOOD' or s == 'FAIL' or s == 'ERROR' or s == 'ABORT' or s == 'CANCELLED' then return nil end
end
for k, v in pairs(cjson.decode(ARGV[1])) do
  if v == cjson.null then record[k] = nil else record[k] = v end
end
if ARGV[2] ~= '' then
  local attempt = cjson.decode(ARGV[2])
  local list = record.attempts
  if type(list) ~= 'table' or next(list) == nil then list = {} end
  local replaced = false
  for i, a in ipairs(list) do if a.number == attempt.number then list[i] = attempt; replaced = true end end
  if not replaced then list[#list + 1] = attempt end
  record.attempts = list
end
local encoded = cjson.encode(record)
redis.call('SET', KEYS[1], encoded)
return encoded
`;

const ARRAY_FIELDS = ['targets', 'labels', 'machines', 'attempts'] as const;

/** Lua's cjson writes empty arrays as {}: put them back. */
function decode(text: string): JobRecord {
  const record = JSON.parse(text) as JobRecord;
  for (const field of ARRAY_FIELDS) if (!Array.isArray(record[field])) (record as unknown as Record<string, unknown>)[field] = [];
  for (const attempt of record.attempts) if (!Array.isArray(attempt.machines)) attempt.machines = [];
  return record;
}

export type JobPatch = { [K in keyof JobRecord]?: JobRecord[K] | null };

export class JobStore {
  constructor(private readonly redis: Redis) {}

  /** Stores a new record unless one exists (submitter and drone may both try); returns the stored one. */
  async create(record: JobRecord): Promise<JobRecord> {
    const created = await this.redis.set(keys.job(record.id), JSON.stringify(record), 'NX');
    if (created) await this.redis.zadd(keys.jobIndex, 'NX', Date.parse(record.submittedAt), record.id);
    return created ? record : ((await this.get(record.id)) ?? record);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const text = await this.redis.get(keys.job(id));
    return text ? decode(text) : undefined;
  }

  /** Applies a patch (and an attempt); with `unlessFinal`, a finished job is left alone and undefined returned. */
  async update(id: string, patch: JobPatch, options: { attempt?: JobAttempt; unlessFinal?: boolean } = {}): Promise<JobRecord | undefined> {
    const result = (await this.redis.eval(
      UPDATE_SCRIPT,
      1,
      keys.job(id),
      JSON.stringify(patch),
      options.attempt ? JSON.stringify(options.attempt) : '',
      options.unlessFinal ? '1' : '0',
    )) as string | null;
    return result ? decode(result) : undefined;
  }

  /** Newest first. */
  async list(limit = 10_000): Promise<JobRecord[]> {
    const ids = await this.redis.zrevrange(keys.jobIndex, 0, limit - 1);
    if (ids.length === 0) return [];
    const texts = await this.redis.mget(ids.map((id) => keys.job(id)));
    return texts.filter((t): t is string => t !== null).map(decode);
  }
}

export const isFinal = (record: JobRecord): boolean => FINAL_STATUSES.has(record.status);
