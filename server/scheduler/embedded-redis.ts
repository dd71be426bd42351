/**
 * The embedded default: with no Redis URL, the scheduler uses Debian's `redis-server` on a unix socket in its
 * state folder, with the append-only file on so queued jobs survive restarts. The first `atest` or `drone`
 * that finds no server there starts one (detached, so it outlives whoever started it); each user, when done,
 * shuts it down if no other client is connected. Tests use `startRedisServer` for a server of their own.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AutotestError } from '../../lib/errors.js';
import { Redis } from 'ioredis';
import { connectRedis, redisOptions, SchedulerRedisError } from './redis-connection.js';

export class EmbeddedRedisError extends AutotestError {}

/** `/var/lib/autotest-lab` for root, `~/.local/state/autotest-lab` otherwise. */
export function defaultStateDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/autotest-lab' : join(homedir(), '.local', 'state', 'autotest-lab');
}

export interface RedisServerHandle {
  readonly url: string;
  readonly socket: string;
  readonly pid: number;
  /** Stops the server (SHUTDOWN, which flushes the append-only file), waiting until it is gone. */
  stop(): Promise<void>;
  /** Kills it with SIGKILL (tests of crash safety). */
  kill(): Promise<void>;
}

async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(20);
  }
}

/** Starts `redis-server` with persistence on a unix socket `<dir>/redis.sock`, data in `<dir>`. */
export async function startRedisServer(dir: string, options: { detached?: boolean } = {}): Promise<RedisServerHandle> {
  const folder = resolve(dir);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const socket = join(folder, 'redis.sock');
  const args = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', folder];
  args.push('--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no', '--logfile', join(folder, 'redis.log'));
  const child = spawn('redis-server', args, { detached: options.detached ?? false, stdio: 'ignore' });
  const spawned = await new Promise<number>((resolvePid, reject) => {
    child.once('error', (error) =>
      reject(new EmbeddedRedisError('ERR_REDIS_START', `cannot start redis-server: ${error.message}: install it (apt-get install redis-server)`, { cause: error })),
    );
    child.once('spawn', () => resolvePid(child.pid!));
  });
  if (options.detached) child.unref();
  const url = `unix://${socket}`;
  const end = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new EmbeddedRedisError('ERR_REDIS_START', `redis-server exited with ${child.exitCode}: see ${join(folder, 'redis.log')}`);
    if (existsSync(socket)) {
      try {
        const probe = await connectRedis(url, { timeoutMs: 1000 });
        // Wait until the append-only file is loaded (PING answers LOADING errors meanwhile).
        probe.disconnect();
        break;
      } catch {
        /* not ready yet */
      }
    }
    if (Date.now() > end) throw new EmbeddedRedisError('ERR_REDIS_START', `redis-server did not open ${socket} within 10 s: see ${join(folder, 'redis.log')}`);
    await sleep(20);
  }
  const handle: RedisServerHandle = {
    url,
    socket,
    pid: spawned,
    async stop() {
      if (!(await shutdownRedis(url))) {
        try {
          process.kill(spawned, 'SIGTERM');
        } catch {
          /* already gone */
        }
      }
      await waitGone(spawned, 10_000);
    },
    async kill() {
      try {
        process.kill(spawned, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await waitGone(spawned, 10_000);
    },
  };
  return handle;
}

/** A connection that fails instead of retrying (for probes and SHUTDOWN, which never gets an answer). */
async function oneShot(url: string): Promise<Redis | undefined> {
  const redis = new Redis({ ...redisOptions(url), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return redis;
  } catch {
    redis.disconnect();
    return undefined;
  }
}

/** SHUTDOWN (the append-only file is flushed first); false when nothing answered. */
async function shutdownRedis(url: string): Promise<boolean> {
  const redis = await oneShot(url);
  if (!redis) return false;
  await redis.call('SHUTDOWN').catch(() => {});
  redis.disconnect();
  return true;
}

async function answers(url: string, socket: string): Promise<boolean> {
  if (!existsSync(socket)) return false;
  try {
    (await connectRedis(url, { timeoutMs: 1000 })).disconnect();
    return true;
  } catch (error) {
    if (!(error instanceof SchedulerRedisError)) throw error;
    return false;
  }
}

/** A lock older than this was left by a process that died while starting the server. */
const STALE_START_LOCK_MS = 30_000;

async function withStartLock(dir: string, fn: () => Promise<void>): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lock = join(dir, 'start.lock');
  const end = Date.now() + 2 * STALE_START_LOCK_MS;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lock).then((info) => Date.now() - info.mtimeMs, () => 0);
      if (age > STALE_START_LOCK_MS) await rmdir(lock).catch(() => undefined);
      if (Date.now() > end) throw new EmbeddedRedisError('ERR_REDIS_START', `another process holds ${lock}: remove it if no atest or drone is starting`);
      await sleep(50);
    }
  }
  try {
    await fn();
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}

export interface ResolvedRedis {
  readonly url: string;
  /** Shuts the embedded server down when this process was its last client; nothing for a given URL. */
  release(): Promise<void>;
}

/** The given URL, or the embedded server in the state folder (started if none answers there). */
export async function resolveRedis(url: string | undefined, stateDir: string): Promise<ResolvedRedis> {
  if (url) return { url, release: async () => {} };
  const dir = join(resolve(stateDir), 'redis');
  const socket = join(dir, 'redis.sock');
  const embeddedUrl = `unix://${socket}`;
  // Two drones started together must not each start a server on the same socket: the check and the start
  // happen under one lock (a folder, made atomically), and whoever waits finds the other's server answering.
  await withStartLock(dir, async () => {
    if (!(await answers(embeddedUrl, socket))) await startRedisServer(dir, { detached: true });
  });
  return {
    url: embeddedUrl,
    async release() {
      const redis = await oneShot(embeddedUrl);
      if (!redis) return;
      const me = `:${process.pid}`;
      const clients = String(await redis.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => /\bname=(\S*)/.exec(line)?.[1] ?? '');
      // Our own probe connection is unnamed and counted once; any other connection keeps the server up.
      const others = clients.filter((name) => !name.endsWith(me)).length - 1;
      redis.disconnect();
      if (others <= 0) await shutdownRedis(embeddedUrl);
    },
  };
}
