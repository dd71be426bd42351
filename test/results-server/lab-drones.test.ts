// The whole path on a two-server virtual lab: a drone in each server namespace runs jobs on lab devices over
// SSH and uploads the results to one results-server (in server 1's namespace, reached by server 2 through the
// lab), and a person sees every job GOOD in the web view and opens its report, whichever drone ran it.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labInventory } from '../../server/lab/lab-inventory.js';
import { startRedisServer, type RedisServerHandle } from '../../server/scheduler/embedded-redis.js';
import { parseInventory } from '../../server/scheduler/inventory.js';
import { SchedulerClient } from '../../server/scheduler/scheduler-client.js';
import { submitJobs } from '../../server/scheduler/submit.js';
import type { JobRecord } from '../../server/scheduler/records.js';
import { repoRoot } from '../helpers/cli.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';
import { spawn, type ChildProcess } from 'node:child_process';

const FINAL = new Set(['GOOD', 'FAIL', 'ERROR', 'ABORT', 'CANCELLED']);

/** A command of ours in a namespace, its output kept; resolves once `ready` appears in it. */
function startInNamespace(namespace: string, command: string, args: string[], ready: RegExp) {
  const child = spawn(
    'ip',
    ['netns', 'exec', namespace, process.execPath, join(repoRoot, 'bin', `${command}.js`), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  const started = new Promise<RegExpExecArray>((resolve, reject) => {
    const check = (): void => {
      const match = ready.exec(output);
      if (match) resolve(match);
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.on('exit', (code) => reject(new Error(`${command} exited with ${code}: ${output.slice(-1000)}`)));
  });
  return { child, started, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

describe.skipIf(!isRoot)('drones on two lab servers and one results server', () => {
  const lab = useLab({ devices: 4, servers: 2 });
  let work: string;
  let redis: RedisServerHandle;
  let client: SchedulerClient;
  let browser: Browser;
  let viewUrl: string;
  const processes: ChildProcess[] = [];
  let jobs: JobRecord[] = [];

  beforeAll(async () => {
    const status = lab();
    work = await mkdtemp(join(tmpdir(), 'lab-drones-'));
    redis = await startRedisServer(join(work, 'redis')); // a unix socket: every namespace shares the file system
    client = await SchedulerClient.connect(redis.url);
    await client.hosts.publishInventory(parseInventory(labInventory(status), 'lab inventory'));
    const tokenFile = join(work, 'token');
    await writeFile(tokenFile, randomBytes(24).toString('hex'));

    const [one, two] = status.servers;
    const server = startInNamespace(
      one!.namespace,
      'results-server',
      [
        '--dir',
        join(work, 'store'),
        '--listen',
        '0.0.0.0:0',
        '--token-file',
        tokenFile,
        '--redis',
        redis.url,
      ],
      /serving .* at http:\/\/0\.0\.0\.0:(\d+)/,
    );
    processes.push(server.child);
    const port = (await server.started)[1]!;
    viewUrl = `http://${one!.managementAddress}:${port}`; // from this (the root) namespace
    const storeUrl = `http://${one!.upstreamAddress}:${port}`; // from every server namespace
    for (const drone of [one!, two!]) {
      const started = startInNamespace(
        drone.namespace,
        'drone',
        [
          '--redis',
          redis.url,
          '--results',
          storeUrl,
          '--token-file',
          tokenFile,
          '--name',
          drone.name,
          '--state',
          join(work, drone.name),
          '--max-jobs',
          '4',
        ],
        /ready/,
      );
      processes.push(started.child);
      await started.started;
    }
    // One job per device, each logging into its device over SSH, on the device's gateway drone.
    for (const device of status.devices) {
      jobs.push(
        ...(await submitJobs(client, {
          tests: [join(repoRoot, 'test', 'results-server', 'fixtures', 'results_GatewayPass.ts')],
          targets: [device.name],
          user: 'lab',
        })),
      );
    }
    const deadline = Date.now() + 180_000;
    for (;;) {
      jobs = await Promise.all(jobs.map(async (job) => (await client.getJob(job.id))!));
      if (jobs.every((job) => FINAL.has(job.status)) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    for (const child of processes.reverse()) await stop(child);
    await client?.close();
    await redis?.kill();
    if (work) await rm(work, { recursive: true, force: true });
  }, 120_000);

  it("runs every job on its device from its gateway drone, and both drones' results reach the one store", async () => {
    expect(jobs.map((job) => [job.targets[0], job.status, job.reason ?? ''])).toEqual(
      lab().devices.map((d) => [d.name, 'GOOD', '']),
    );
    for (const job of jobs) {
      const device = lab().devices.find((d) => d.name === job.targets[0])!;
      expect(job.drone, `drone of ${job.id}`).toBe(`server${device.server}`);
      const stored = await fetch(`${viewUrl}/results/${job.id}/status.log`);
      expect(stored.status, `results of ${job.id}`).toBe(200);
      expect(await stored.text()).toMatch(/END GOOD/);
    }
  });

  it("shows the jobs GOOD in the web view and opens a report uploaded from server 2's side of the lab", async () => {
    const page = await browser.newPage();
    await page.goto(`${viewUrl}/jobs?status=GOOD&user=lab`);
    const rows = await page
      .locator('#jobs tbody tr')
      .evaluateAll((r) => r.map((x) => x.getAttribute('data-job')));
    expect(rows.sort()).toEqual(jobs.map((j) => j.id).sort());
    const job = jobs.find((j) => j.drone === 'server2')!;
    await page.click(`tr[data-job="${job.id}"] a:has-text("report")`);
    expect(page.url()).toBe(`${viewUrl}/results/${job.id}/index.html`);
    expect(await page.locator('body').innerText()).toContain('dummy_PassServer');
    await page.close();
  });
});
