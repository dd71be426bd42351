// The results server's web view as a person uses it, in headless Chromium: the jobs list with its filters and
// negative search, a device's lease, opening a job's report, Bull Board. The data is real: a redis-server
// started here on a unix socket, jobs submitted and devices leased by the scheduler's own code, results
// uploaded by the drones' uploader to a results-server process.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadResults } from '../../server/results-server/results-uploader.js';
import { DeviceLeases, rankOf } from '../../server/scheduler/device-leases.js';
import { startRedisServer, type RedisServerHandle } from '../../server/scheduler/embedded-redis.js';
import { parseInventory } from '../../server/scheduler/inventory.js';
import { SchedulerClient } from '../../server/scheduler/scheduler-client.js';
import { submitJobs, wantOf } from '../../server/scheduler/submit.js';
import type { JobRecord } from '../../server/scheduler/records.js';
import { repoRoot, startCli } from '../helpers/cli.js';

const OUTPUT = join(repoRoot, 'results', 'test-output', 'results-server');
const INVENTORY = `
drones: [server1, server2]
devices:
  - { name: dut1, address: 198.18.9.2, drone: server1, labels: { board: eve, pool: cq } }
  - { name: dut2, address: 198.18.9.3, drone: server1, labels: { board: eve, pool: cq } }
  - { name: dut3, address: 198.18.9.130, drone: server2, labels: { board: kevin, pool: bvt } }
`;

describe('results server web view', () => {
  let work: string;
  let redis: RedisServerHandle;
  let client: SchedulerClient;
  let browser: Browser;
  let page: Page;
  let url: string;
  let stopServer: () => Promise<void>;
  const jobs = {} as Record<'pass' | 'fail' | 'running' | 'queued', JobRecord>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'web-view-'));
    redis = await startRedisServer(join(work, 'redis'));
    client = await SchedulerClient.connect(redis.url);
    await client.hosts.publishInventory(parseInventory(INVENTORY));

    // Jobs as users submit them, then moved along as drones would: one passed, one failed, one running.
    const submit = async (test: string, user: string, labels: string[]) =>
      (
        await submitJobs(client, { tests: [test], labels, user, testsDirs: [join(repoRoot, 'site_tests')] })
      )[0]!;
    jobs.pass = await submit('dummy_Pass', 'alice', ['board=eve']);
    jobs.fail = await submit('dummy_Fail', 'bob', ['board=eve']);
    jobs.running = await submit('dummy_Pass', 'alice', ['board=kevin']);
    jobs.queued = await submit('dummy_Fail', 'carol', ['board=kevin']);
    const leases = new DeviceLeases(client.redis);
    const { devices: leased } = await leases.acquire(
      jobs.running.id,
      rankOf(50, Date.parse(jobs.running.submittedAt)),
      wantOf(jobs.running, await client.hosts.inventory()),
      'server2',
      600_000,
    );
    expect(leased).toEqual(['dut3']);
    const started = new Date().toISOString();
    await client.jobs.update(jobs.running.id, {
      status: 'RUNNING',
      drone: 'server2',
      machines: leased,
      startedAt: started,
    });
    await client.jobs.update(jobs.pass.id, {
      status: 'GOOD',
      drone: 'server1',
      machines: ['dut1'],
      startedAt: started,
      endedAt: started,
    });
    await client.jobs.update(jobs.fail.id, {
      status: 'FAIL',
      drone: 'server1',
      machines: ['dut2'],
      startedAt: started,
      endedAt: started,
      reason: 'dummy_Fail fails on purpose <img src=x onerror="document.title=1">',
    });
    await client.hosts.lock('dut2', 'bob', 'replacing the battery');

    const token = randomBytes(24).toString('hex');
    await writeFile(join(work, 'token'), token);
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const cli = startCli('results-server', [
      '--dir',
      join(work, 'store'),
      '--listen',
      `127.0.0.1:${port}`,
      '--token-file',
      join(work, 'token'),
      '--redis',
      redis.url,
    ]);
    stopServer = async () => {
      cli.child.kill('SIGTERM');
      await cli.done;
    };
    const deadline = Date.now() + 30_000;
    while (!cli.output().includes('serving')) {
      if (cli.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`results-server did not start: ${(await cli.done).stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    url = `http://127.0.0.1:${port}`;
    // The passed job's results, uploaded as a drone does, with the report the job core writes.
    const results = join(work, 'job-results');
    await mkdir(results);
    await writeFile(
      join(results, 'index.html'),
      `<!doctype html><title>Report</title><h1 id="title">Report of job ${jobs.pass.id}</h1>`,
    );
    await uploadResults({
      storeUrl: url,
      token,
      jobId: jobs.pass.id,
      dir: results,
      spoolDir: join(work, 'spool'),
    });

    browser = await launchChromium();
    page = await browser.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopServer?.();
    await client?.close();
    await redis?.kill(); // stop() (SHUTDOWN) can hang in ioredis; this test needs no persistence
    await rm(work, { recursive: true, force: true });
  });

  const rowIds = async (): Promise<string[]> =>
    page.locator('#jobs tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job') ?? ''));

  it('lists every job with its status, user and devices', async () => {
    await page.goto(`${url}/`);
    expect(await page.title()).toBe('Jobs');
    expect((await rowIds()).sort()).toEqual(
      Object.values(jobs)
        .map((j) => j.id)
        .sort(),
    );
    const failRow = page.locator(`tr[data-job="${jobs.fail.id}"]`);
    await expect(failRow.locator('td').nth(3).innerText()).resolves.toBe('FAIL');
    // A reason comes from a device or a test: it is shown as text, never run as markup.
    expect(await failRow.innerText()).toContain(
      'dummy_Fail fails on purpose <img src=x onerror="document.title=1">',
    );
    expect(await failRow.locator('img').count()).toBe(0);
    expect(await page.locator(`tr[data-job="${jobs.running.id}"]`).innerText()).toContain('dut3');
    await mkdir(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'jobs.png'), fullPage: true });
  });

  it('filters by status, user, label and a negative search word', async () => {
    await page.goto(`${url}/jobs`);
    await page.selectOption('select[name=status]', 'FAIL');
    await page.click('button[type=submit]');
    expect(await rowIds()).toEqual([jobs.fail.id]);
    expect(await page.locator('#job-count').innerText()).toBe('1 of 4 jobs');

    await page.goto(`${url}/jobs`);
    await page.fill('input[name=user]', 'alice');
    await page.click('button[type=submit]');
    expect((await rowIds()).sort()).toEqual([jobs.pass.id, jobs.running.id].sort());

    await page.goto(`${url}/jobs`);
    await page.fill('input[name=label]', 'board=kevin');
    await page.fill('input[name=q]', '-dummy_fail');
    await page.click('button[type=submit]');
    expect(await rowIds()).toEqual([jobs.running.id]);

    const today = new Date().toISOString().slice(0, 10);
    await page.goto(`${url}/jobs?from=${today}&to=${today}&q=-alice -carol`);
    expect(await rowIds()).toEqual([jobs.fail.id]);
    await page.goto(`${url}/jobs?to=2000-01-01`);
    expect(await rowIds()).toEqual([]);
  });

  it('shows the devices with their leases, locks and gateway drones', async () => {
    await page.goto(`${url}/hosts`);
    const dut3 = page.locator('tr[data-host="dut3"]');
    expect(await dut3.locator('.lease').innerText()).toContain(`${jobs.running.id} on server2 since`);
    expect(await dut3.innerText()).toContain('server2');
    expect(await page.locator('tr[data-host="dut1"] .lease').innerText()).toBe('free');
    expect(await page.locator('tr[data-host="dut2"]').innerText()).toContain(
      'locked by bob: replacing the battery',
    );
    await dut3.locator('.lease a').click();
    expect(await page.title()).toBe(`Job ${jobs.running.id}`);
  });

  it('shows the queue: what runs, and what waits in the order it will run', async () => {
    await page.goto(`${url}/queue`);
    expect(
      await page.locator('#running tbody tr').evaluateAll((r) => r.map((x) => x.getAttribute('data-job'))),
    ).toEqual([jobs.running.id]);
    expect(
      await page.locator('#waiting tbody tr').evaluateAll((r) => r.map((x) => x.getAttribute('data-job'))),
    ).toEqual([jobs.queued.id]);
  });

  it("opens a job's report from its page, and says when there is none yet", async () => {
    await page.goto(`${url}/jobs/${jobs.running.id}`);
    expect(await page.locator('main p').first().innerText()).toBe('No results uploaded yet.');
    await page.goto(`${url}/jobs`);
    await page.click(`tr[data-job="${jobs.pass.id}"] a:has-text("${jobs.pass.id}")`);
    expect(await page.locator('#job').innerText()).toContain('alice');
    // The raw results folder, listed, with the report among its files.
    await page.click('#browse');
    expect(await page.locator('#listing').innerText()).toContain('index.html');
    await page.goBack();
    await page.click('#report');
    expect(await page.locator('#title').innerText()).toBe(`Report of job ${jobs.pass.id}`);
    expect(page.url()).toBe(`${url}/results/${jobs.pass.id}/index.html`);
  });

  it("mounts Bull Board on the scheduler's queue", async () => {
    await page.goto(`${url}/bull/`);
    await page.getByText('atest', { exact: false }).first().waitFor({ timeout: 30_000 });
    const api = (await (await fetch(`${url}/bull/api/queues`)).json()) as { queues: { name: string }[] };
    expect(api.queues.map((q) => q.name)).toContain('atest');
  });
});
