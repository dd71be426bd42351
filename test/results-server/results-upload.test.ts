// The results store end to end: a real results-server process, drones' uploads through uploadResults (in this
// process and in a separate "drone" process that exits), an unreachable store that comes up later, and
// uploads that must be refused (paths escaping the job folder, links pointing out, too large, wrong token).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrySpooled, spooledJobs, uploadResults } from '../../server/results-server/results-uploader.js';
import { startResultsServer } from '../../server/results-server/results-server.js';
import { repoRoot, runCli, startCli } from '../helpers/cli.js';

const token = randomBytes(24).toString('hex');
let work: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `results-server` as a user would, and waits for its "serving" line. */
async function startServerProcess(store: string, port: number) {
  const tokenFile = join(work, 'token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const cli = startCli('results-server', [
    '--dir',
    store,
    '--listen',
    `127.0.0.1:${port}`,
    '--token-file',
    tokenFile,
  ]);
  const deadline = Date.now() + 30_000;
  while (!cli.output().includes('serving')) {
    if (cli.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`results-server did not start: ${(await cli.done).stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      cli.child.kill('SIGTERM');
      await cli.done;
    },
  };
}

async function makeResults(name: string, body: string): Promise<string> {
  const dir = join(work, 'job-results', name);
  await mkdir(join(dir, 'dummy_Pass', 'debug'), { recursive: true });
  await writeFile(join(dir, 'index.html'), `<h1>${body}</h1>`);
  await writeFile(join(dir, 'status.log'), 'START\t----\t----\nEND GOOD\t----\t----\n');
  await writeFile(join(dir, 'dummy_Pass', 'debug', 'dummy_Pass.DEBUG'), 'log line\n');
  return dir;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'results-upload-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('results store', () => {
  it('stores an upload from uploadResults and serves its report and files', async () => {
    const store = join(work, 'store-a');
    const server = await startServerProcess(store, await freePort());
    try {
      const spoolDir = join(work, 'spool-a');
      await uploadResults({
        storeUrl: server.url,
        token,
        jobId: '17-dummy',
        dir: await makeResults('a', 'job 17'),
        spoolDir,
      });
      expect(await spooledJobs(spoolDir)).toEqual([]);
      const report = await fetch(`${server.url}/results/17-dummy/index.html`);
      expect(report.status).toBe(200);
      expect(await report.text()).toBe('<h1>job 17</h1>');
      const log = await fetch(`${server.url}/results/17-dummy/dummy_Pass/debug/dummy_Pass.DEBUG`);
      expect(await log.text()).toBe('log line\n');
      // The staging area is empty: nothing half-made is left next to the job.
      expect(await readdir(join(store, '.incoming'))).toEqual([]);
      // Without --redis the jobs page lists what the store holds, each linking to its report.
      const jobsPage = await (await fetch(`${server.url}/jobs`)).text();
      expect(jobsPage).toContain('<a href="/results/17-dummy/index.html">17-dummy</a>');
    } finally {
      await server.stop();
    }
  });

  it.each([
    [
      'a token file that does not exist',
      () => ['--token-file', join(work, 'no-such-token')],
      /cannot read the token file .*no-such-token.* \[ERR_RESULTS_OPTIONS\]$/,
    ],
    [
      'a token shorter than 16 characters',
      () => ['--token-file', join(work, 'short-token')],
      /shorter than 16 characters.* \[ERR_RESULTS_OPTIONS\]$/,
    ],
    [
      'a Redis nobody answers at',
      () => ['--token-file', join(work, 'token'), '--redis', `unix://${join(work, 'no-redis.sock')}`],
      /no-redis\.sock/,
    ],
    [
      'a --listen that is not HOST:PORT',
      () => ['--token-file', join(work, 'token'), '--listen', 'localhost'],
      /expected HOST:PORT .*got "localhost"/,
    ],
  ])('refuses %s in one line, exit 2', async (_what, args, message) => {
    await writeFile(join(work, 'short-token'), 'abc');
    await writeFile(join(work, 'token'), token);
    const result = await runCli('results-server', [
      '--dir',
      join(work, 'store-cli'),
      '--listen',
      '127.0.0.1:0',
      ...args(),
    ]);
    expect(result.code).toBe(2);
    const lines = result.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('(') && !/DeprecationWarning|Use `node/.test(l));
    expect(lines[0]).toMatch(message); // commander adds the usage after its own errors
  });

  it('keeps results in the spool while the store is down or restarting, and uploads them once it is up', async () => {
    const port = await freePort();
    const storeUrl = `http://127.0.0.1:${port}`;
    const spoolDir = join(work, 'spool-b');
    const store = join(work, 'store-b');
    const controller = new AbortController();
    await uploadResults({
      storeUrl,
      token,
      jobId: 'down-1',
      dir: await makeResults('b', 'waited'),
      spoolDir,
      backoff: { initialMs: 100, maxMs: 400 },
      signal: controller.signal,
    });
    expect(await spooledJobs(spoolDir)).toEqual(['down-1']);
    const server = await startServerProcess(store, port);
    try {
      await waitFor('the spooled job to be uploaded', async () =>
        (await spooledJobs(spoolDir)).length === 0 ? true : undefined,
      );
      expect(await (await fetch(`${storeUrl}/results/down-1/index.html`)).text()).toBe('<h1>waited</h1>');
    } finally {
      await server.stop();
    }
    // The store goes down again and restarts on the same folder: what it held is still served, and a job
    // finished meanwhile arrives once it is back.
    await uploadResults({
      storeUrl,
      token,
      jobId: 'down-2',
      dir: await makeResults('b2', 'while restarting'),
      spoolDir,
      backoff: { initialMs: 100, maxMs: 400 },
      signal: controller.signal,
    });
    expect(await spooledJobs(spoolDir)).toEqual(['down-2']);
    const restarted = await startServerProcess(store, port);
    try {
      await waitFor('the second spooled job to be uploaded', async () =>
        (await spooledJobs(spoolDir)).length === 0 ? true : undefined,
      );
      expect(await (await fetch(`${storeUrl}/results/down-2/index.html`)).text()).toBe(
        '<h1>while restarting</h1>',
      );
      expect(await (await fetch(`${storeUrl}/results/down-1/index.html`)).text()).toBe('<h1>waited</h1>');
    } finally {
      controller.abort();
      await restarted.stop();
    }
  });

  it('uploads at the next start what a drone that exited had spooled', async () => {
    const port = await freePort();
    const storeUrl = `http://127.0.0.1:${port}`;
    const spoolDir = join(work, 'spool-c');
    const dir = await makeResults('c', 'survived');
    // A drone process that finishes a job while the store is down, then exits.
    const script = `import { uploadResults } from ${JSON.stringify(join(repoRoot, 'dist/server/results-server/results-uploader.js'))};
await uploadResults({ storeUrl: ${JSON.stringify(storeUrl)}, token: ${JSON.stringify(token)}, jobId: 'restart-1', dir: ${JSON.stringify(dir)}, spoolDir: ${JSON.stringify(spoolDir)} });`;
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`drone exited with ${code}`))));
    });
    await rm(dir, { recursive: true }); // the drone's results folder is gone; the spool is what remains
    expect(await spooledJobs(spoolDir)).toEqual(['restart-1']);
    const server = await startServerProcess(join(work, 'store-c'), port);
    try {
      const outcome = await retrySpooled({ storeUrl, token, spoolDir });
      expect(outcome).toEqual({ uploaded: ['restart-1'], pending: [], rejected: [] });
      expect(await (await fetch(`${storeUrl}/results/restart-1/index.html`)).text()).toBe(
        '<h1>survived</h1>',
      );
    } finally {
      await server.stop();
    }
  });

  it('keeps the spool when the token is wrong, and a second upload of the same content is accepted once', async () => {
    const server = await startServerProcess(join(work, 'store-d'), await freePort());
    const controller = new AbortController();
    try {
      const spoolDir = join(work, 'spool-d');
      const dir = await makeResults('d', 'twice');
      await uploadResults({
        storeUrl: server.url,
        token: 'not-the-token-at-all',
        jobId: 'tok-1',
        dir,
        spoolDir,
        signal: controller.signal,
        backoff: { initialMs: 60_000 },
      });
      expect(await spooledJobs(spoolDir)).toEqual(['tok-1']);
      expect((await fetch(`${server.url}/results/tok-1/index.html`)).status).toBe(404);
      controller.abort();
      expect(await retrySpooled({ storeUrl: server.url, token, spoolDir })).toEqual({
        uploaded: ['tok-1'],
        pending: [],
        rejected: [],
      });
      // The drone did not see the answer and sends the same results again: accepted, nothing changes.
      await uploadResults({ storeUrl: server.url, token, jobId: 'tok-1', dir, spoolDir });
      expect(await spooledJobs(spoolDir)).toEqual([]);
      // Different content under a stored id is refused and kept aside on the drone, never dropped.
      await writeFile(join(dir, 'index.html'), 'other');
      await uploadResults({ storeUrl: server.url, token, jobId: 'tok-1', dir, spoolDir });
      expect(await readdir(join(spoolDir, 'rejected'))).toEqual(['tok-1.tar.gz']);
      expect(await (await fetch(`${server.url}/results/tok-1/index.html`)).text()).toBe('<h1>twice</h1>');
    } finally {
      controller.abort();
      await server.stop();
    }
  });
});

describe('results store refuses unsafe uploads', () => {
  let server: Awaited<ReturnType<typeof startResultsServer>>;
  let store: string;
  beforeAll(async () => {
    store = join(work, 'store-unsafe');
    server = await startResultsServer({ dir: store, token, maxUploadBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await server.close();
  });

  const put = (jobId: string, body: Uint8Array, auth = token) =>
    fetch(`${server.url}/api/jobs/${jobId}/results`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/gzip' },
      body,
    });

  async function tarball(name: string, build: (dir: string) => Promise<string[]>): Promise<Uint8Array> {
    const dir = join(work, 'unsafe', name);
    await mkdir(dir, { recursive: true });
    const args = await build(dir);
    const file = join(work, 'unsafe', `${name}.tar.gz`);
    execFileSync('tar', ['-C', dir, '-czf', file, ...args], { stdio: 'ignore' });
    return new Uint8Array(await readFile(file));
  }

  it.each([
    [
      'a path with ..',
      'dotdot',
      async (dir: string) => {
        await writeFile(join(dir, 'x'), 'x');
        return ['-P', '--transform', 's,^x$,../escaped,', 'x'];
      },
      /climbs out/,
    ],
    [
      'an absolute path',
      'absolute',
      async (dir: string) => {
        await writeFile(join(dir, 'x'), 'x');
        return ['-P', '--transform', 's,^x$,/tmp/escaped,', 'x'];
      },
      /absolute path/,
    ],
    [
      'a link pointing out',
      'link',
      async (dir: string) => {
        await symlink('/etc', join(dir, 'etc'));
        return ['etc'];
      },
      /points to the absolute path/,
    ],
    [
      'a link climbing out',
      'relative-link',
      async (dir: string) => {
        await symlink('../../..', join(dir, 'up'));
        return ['up'];
      },
      /points out/,
    ],
  ])('refuses %s with 400 and stores nothing', async (_what, name, build, message) => {
    const response = await put(`bad-${name}`, await tarball(name, build));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe('ERR_RESULTS_UNSAFE_UPLOAD');
    expect(body.message).toMatch(message);
    expect(await server.store.list()).not.toContain(`bad-${name}`);
    expect((await readdir(store)).filter((n) => n !== '.incoming')).not.toContain(`bad-${name}`);
  });

  it('refuses an upload over the size bound with 413', async () => {
    const big = await tarball('big', async (dir) => {
      await writeFile(join(dir, 'noise'), randomBytes(200 * 1024));
      return ['noise'];
    });
    const response = await put('too-big', big);
    expect(response.status).toBe(413);
    expect(await server.store.list()).not.toContain('too-big');
    expect(await readdir(join(store, '.incoming'))).toEqual([]);
  });

  it('refuses a wrong token with 401 and a job id that is not a folder name with 400', async () => {
    const good = await tarball('good', async (dir) => {
      await writeFile(join(dir, 'index.html'), 'ok');
      return ['.'];
    });
    expect((await put('job-1', good, 'x'.repeat(48))).status).toBe(401);
    expect((await put('..', good)).status).toBe(404 /* the router never matches .. */);
    const badId = await put('.hidden', good);
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { code: string }).code).toBe('ERR_RESULTS_JOB_ID');
    expect((await put('job-1', good)).status).toBe(201);
    expect(await server.store.list()).toEqual(['job-1']);
  });

  it('a half-made upload left by a crash is never visible and is dropped at start', async () => {
    await mkdir(join(store, '.incoming', 'crashed.abc'), { recursive: true });
    await writeFile(join(store, '.incoming', 'crashed.abc', 'index.html'), 'half');
    const again = await startResultsServer({ dir: store, token });
    try {
      expect(await readdir(join(store, '.incoming'))).toEqual([]);
      expect((await fetch(`${again.url}/results/.incoming/crashed.abc/index.html`)).status).toBe(404);
      expect(await again.store.list()).not.toContain('crashed');
    } finally {
      await again.close();
    }
  });
});
