// The embedded default: without --redis, atest and drone share a redis-server on a unix socket in the state
// folder, started by whoever needs it first, with the append-only file on, and shut down by the last user.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { resolveRedis } from '../../server/scheduler/embedded-redis.js';
import { connectRedis } from '../../server/scheduler/redis-connection.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { inventoryYaml, touchControl, waitFor } from './harness.js';

/** Pids of the processes whose command line mentions `text`. */
function processesMentioning(text: string): string[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false; // the process ended while we looked
      }
    });
}

describe('the embedded Redis', () => {
  let dir: string;
  let state: string;
  const socket = () => join(state, 'redis', 'redis.sock');
  const answers = () => connectRedis(`unix://${socket()}`, { timeoutMs: 500 }).then((r) => (r.disconnect(), true), () => false);
  const atest = (args: string[]) => runCli('atest', ['--state', state, ...args], { env: { ATEST_REDIS: '' } });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sched-embedded-'));
    state = join(dir, 'state');
  });
  afterAll(async () => {
    if (await answers()) await connectRedis(`unix://${socket()}`).then((r) => r.call('SHUTDOWN').catch(() => {}));
    // Whatever a failed or slow test left running under this folder goes too (a probe can time out under load).
    for (const pid of processesMentioning(dir)) process.kill(Number(pid), 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('starts for atest, keeps what was queued, and stops when atest is done', async () => {
    const inventory = join(dir, 'lab.yaml');
    await writeFile(inventory, inventoryYaml(['s1'], [{ name: 'e1', drone: 's1', labels: { pool: 'emb' } }]));
    expect((await atest(['inventory', 'load', inventory])).code).toBe(0);
    expect(await answers()).toBe(false);
    const submitted = await atest(['submit', touchControl, 'pool=emb', '-a', `log=${join(dir, 'jobs.log')} tag=e`]);
    expect(submitted.code).toBe(0);
    const id = submitted.stdout.trim();
    const listed = await atest(['jobs', '--status', 'QUEUED']);
    expect(listed.stdout).toMatch(new RegExp(`^${id} +sched_Touch +QUEUED`, 'm'));
    expect(await answers()).toBe(false);

    // A drone without --redis finds the same queue; atest meanwhile shares its server.
    const drone = spawn(process.execPath, [join(repoRoot, 'bin/drone.js'), '--state', state, '--name', 's1', '--results', join(dir, 'store')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise((resolve) => drone.on('exit', resolve));
    await waitFor(async () => (await atest(['show', id])).stdout.includes('GOOD'), 60_000, `job ${id} to pass`);
    expect(await answers()).toBe(true);
    drone.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await answers()).toBe(false);
    expect(existsSync(join(state, 'redis', 'appendonlydir'))).toBe(true);
  });

  it('starts one server when several users find none at the same moment', async () => {
    const raceState = join(dir, 'race');
    const raceSocket = join(raceState, 'redis', 'redis.sock');
    const servers = () => processesMentioning(raceSocket);
    const users = await Promise.all([1, 2, 3, 4].map(() => resolveRedis(undefined, raceState)));
    try {
      expect(servers()).toHaveLength(1);
    } finally {
      for (const user of users) await user.release();
    }
    await waitFor(async () => servers().length === 0, 10_000, 'the embedded server to stop');
  });
});
