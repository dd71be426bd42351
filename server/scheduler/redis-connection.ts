/**
 * Redis addresses as users type them (`redis://host:6379`, `unix:///var/lib/autotest-lab/redis.sock`, or a
 * socket path) turned into ioredis options, and a first connection that fails in one line naming the URL
 * instead of retrying forever.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { AutotestError } from '../../lib/errors.js';

export class SchedulerRedisError extends AutotestError {}

export function redisOptions(url: string): RedisOptions {
  if (url.startsWith('/')) return { path: url };
  if (url.startsWith('unix://')) return { path: url.slice('unix://'.length) };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SchedulerRedisError('ERR_REDIS_URL', `Redis address ${url} is not redis://HOST:PORT, unix:///PATH or a socket path`);
  }
  if (parsed.protocol !== 'redis:') throw new SchedulerRedisError('ERR_REDIS_URL', `Redis address ${url} is not redis://HOST:PORT, unix:///PATH or a socket path`);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: Number(parsed.port || 6379),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.pathname.length > 1 ? { db: Number(parsed.pathname.slice(1)) } : {}),
  };
}

/**
 * Connects and checks Redis answers within `timeoutMs`. Later outages are ridden out by ioredis'
 * reconnection (BullMQ needs `maxRetriesPerRequest: null` for that).
 */
export async function connectRedis(url: string, options: { timeoutMs?: number; name?: string } = {}): Promise<Redis> {
  const redis = new Redis({
    ...redisOptions(url),
    lazyConnect: true,
    maxRetriesPerRequest: null,
    connectionName: options.name,
    // Keep reconnecting after the first success (a restarted Redis comes back), at most every second.
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  let lastError: Error | undefined;
  // Reported through the commands that fail, not as unhandled events; the first one names the cause.
  redis.on('error', (error: Error) => (lastError ??= error));
  const timeoutMs = options.timeoutMs ?? 3000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    redis.disconnect();
    throw new SchedulerRedisError(
      'ERR_REDIS_UNREACHABLE',
      `cannot reach Redis at ${url}: ${(lastError ?? (error as Error)).message}: start redis-server or give the right --redis URL`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
  return redis;
}
