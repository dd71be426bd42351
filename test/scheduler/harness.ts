// A scheduler of its own for each test file: a real redis-server on a unix socket in a temp folder, an
// inventory, real drones started as separate processes (bin/drone.js), and a client to watch the records.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startRedisServer, type RedisServerHandle } from '../../server/scheduler/embedded-redis.js';
import { parseInventory, type Inventory } from '../../server/scheduler/inventory.js';
import { SchedulerClient } from '../../server/scheduler/scheduler-client.js';
import type { JobRecord } from '../../server/scheduler/records.js';
import { repoRoot, runCli, type CliResult } from '../helpers/cli.js';

export const touchControl = fileURLToPath(new URL('./fixtures/sched_Touch.ts', import.meta.url));
export const recallControl = fileURLToPath(new URL('./fixtures/sched_Recall.ts', import.meta.url));

export interface DroneProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

export class SchedulerHarness {
  readonly drones: DroneProcess[] = [];
  client!: SchedulerClient;
  redis!: RedisServerHandle;
  private constructor(readonly dir: string) {}

  static async start(): Promise<SchedulerHarness> {
    const harness = new SchedulerHarness(await mkdtemp(join(tmpdir(), 'sched-')));
    harness.redis = await startRedisServer(join(harness.dir, 'redis'));
    harness.client = await SchedulerClient.connect(harness.redis.url);
    return harness;
  }

  get url(): string {
    return this.redis.url;
  }

  get log(): string {
    return join(this.dir, 'jobs.log');
  }

  /** Validates YAML inventory text through the parser and publishes it. */
  async loadInventory(yaml: string): Promise<Inventory> {
    const inventory = parseInventory(yaml, 'test-inventory.yaml');
    await this.client.hosts.publishInventory(inventory);
    return inventory;
  }

  /** Starts `drone` as its own process and waits until it says it is ready. */
  async startDrone(name: string, options: { leaseMs?: number; maxJobs?: number; retryMs?: number; results?: string; tokenFile?: string } = {}): Promise<DroneProcess> {
    const args = [join(repoRoot, 'bin/drone.js'), '--redis', this.url, '--name', name, '--results', options.results ?? join(this.dir, 'store')];
    if (options.tokenFile) args.push('--token-file', options.tokenFile);
    args.push('--state', join(this.dir, 'state'), '--lease-ms', String(options.leaseMs ?? 3000), '--retry-ms', String(options.retryMs ?? 200));
    args.push('--max-jobs', String(options.maxJobs ?? 8));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DRONE_LOG_LEVEL: process.env.DRONE_LOG_LEVEL ?? 'warn' } });
    let output = '';
    child.stderr!.on('data', (data: Buffer) => (output += data));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const drone: DroneProcess = { name, child, exited, output: () => output };
    this.drones.push(drone);
    await waitFor(() => output.includes('ready') || child.exitCode !== null, 20_000, `drone ${name} to start`);
    if (child.exitCode !== null) throw new Error(`drone ${name} exited: ${output}`);
    return drone;
  }

  atest(args: string[]): Promise<CliResult> {
    return runCli('atest', ['--redis', this.url, ...args]);
  }

  async job(id: string): Promise<JobRecord> {
    const record = await this.client.getJob(id);
    if (!record) throw new Error(`no record for job ${id}`);
    return record;
  }

  /** Waits until every job has ended and returns their records. */
  async waitEnded(ids: readonly string[], timeoutMs: number): Promise<JobRecord[]> {
    let records: JobRecord[] = [];
    await waitFor(
      async () => {
        records = await Promise.all(ids.map((id) => this.job(id)));
        return records.every((r) => !['QUEUED', 'RUNNING'].includes(r.status));
      },
      timeoutMs,
      `jobs ${ids.join(',')} to end`,
    );
    return records;
  }

  /** Start/end lines the jobs wrote themselves. */
  async logLines(): Promise<{ tag: string; machines: string[]; start: number; end: number; pid: number }[]> {
    const text = await readFile(this.log, 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { tag: string; machines: string[]; start: number; end: number; pid: number });
  }

  async close(): Promise<void> {
    for (const drone of this.drones) if (drone.child.exitCode === null && drone.child.signalCode === null) drone.child.kill('SIGKILL');
    await Promise.all(this.drones.map((d) => d.exited));
    await this.client?.close().catch(() => {});
    await this.redis?.stop().catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** An inventory of devices that jobs never log into (server-side jobs only use their names). */
export function inventoryYaml(drones: string[], devices: { name: string; drone: string; labels: Record<string, string>; address?: string }[], extra = ''): string {
  const lines = [extra, `drones: [${drones.join(', ')}]`, 'devices:'];
  devices.forEach((d) => {
    const labels = Object.entries(d.labels).map(([k, v]) => `${k}: ${v}`).join(', ');
    // Loopback port 1: nothing listens, so a verify after a failed job is refused at once and leaves the machine alone.
    lines.push(`  - { name: ${d.name}, address: ${d.address ?? '127.0.0.1'}, port: ${d.address ? 22 : 1}, drone: ${d.drone}, labels: { ${labels} } }`);
  });
  return `${lines.join('\n')}\n`;
}

export async function writeFileIn(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
