// The `recall` command as a real process (bin/recall.js on the built dist/): serve in record mode against a real
// origin, stop with SIGINT (archive saved), inspect with ls/show/stats/export/merge, replay with the origin gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRecallServe as serve } from '../helpers/recall-serve.js';
import { curl, headerOf, startOrigin, type Origin } from './http-fixtures.js';

const BIN = fileURLToPath(new URL('../../bin/recall.js', import.meta.url));


function recall(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('recall command', () => {
  let dir: string;
  let origin: Origin;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-cli-'));
    origin = await startOrigin((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'Content-Type': 'text/plain' });
      res.end(`page ${req.url}`);
    });
    base = `http://127.0.0.1:${origin.port}`;
  });

  afterAll(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records with `serve --mode record` and saves the archive on SIGINT', async () => {
    const served = await serve([
      '--mode',
      'record',
      '--allow-local-upstreams',
      '--archive',
      join(dir, 'a.har.gz'),
      '--ca-dir',
      join(dir, 'ca'),
    ]);
    try {
      expect(served.ports.dns).toBeGreaterThan(0);
      expect((await curl(`${base}/one`, served.ports.http)).body.toString()).toBe('page /one');
      expect((await curl(`${base}/missing`, served.ports.http)).status).toBe(404);
      const pem = await curl('https://recall.test/_recall/ca.pem', served.ports.https, [
        '--cacert',
        served.caFile,
      ]);
      expect(pem.body.toString()).toBe(await readFile(served.caFile, 'utf8'));
    } finally {
      served.child.kill('SIGINT');
    }
    expect(await served.exited).toBe(0);
    expect(served.output()).toContain(`saved 2 exchanges and 0 DNS answers to ${join(dir, 'a.har.gz')}`);
  });

  it('lists, shows, counts, exports and merges archives with filters', async () => {
    const archive = join(dir, 'a.har.gz');
    const ls = await recall(['ls', archive]);
    // Time order: /one was recorded first.
    expect(ls.stdout.trim().split('\n')).toEqual([
      `200 GET ${base}/one 9 text/plain`,
      `404 GET ${base}/missing 13 text/plain`,
    ]);
    expect((await recall(['ls', archive, '--status', '2xx'])).stdout.trim()).toBe(
      `200 GET ${base}/one 9 text/plain`,
    );
    expect(
      (await recall(['ls', archive, '--path', '/mis', '--method', 'get', '--host', '127.0.0.1'])).stdout,
    ).toContain('/missing');
    const show = await recall(['show', archive, '--status', '404']);
    expect(show.stdout).toContain(`GET ${base}/missing HTTP/1.1`);
    expect(show.stdout).toContain('page /missing');
    const stats = JSON.parse((await recall(['stats', archive, '--json'])).stdout);
    expect(stats).toMatchObject({ entries: 2, byStatus: { '200': 1, '404': 1 }, byMethod: { GET: 2 } });
    expect((await recall(['export', archive, join(dir, 'ok.har'), '--status', '200'])).stdout).toContain(
      'wrote 1 exchanges',
    );
    expect((await recall(['merge', join(dir, 'm.har'), archive, join(dir, 'ok.har')])).stdout).toContain(
      'wrote 3 exchanges',
    );
    expect(JSON.parse(await readFile(join(dir, 'm.har'), 'utf8')).log.entries).toHaveLength(3);
  });

  it('replays with `serve --mode replay` with the origin stopped and reports misses on SIGTERM', async () => {
    await origin.close();
    const served = await serve([
      '--mode',
      'replay',
      '--archive',
      join(dir, 'a.har.gz'),
      '--ca-dir',
      join(dir, 'ca'),
    ]);
    try {
      expect((await curl(`${base}/one`, served.ports.http)).body.toString()).toBe('page /one');
      const miss = await curl(`${base}/ones`, served.ports.http);
      expect(miss.status).toBe(404);
      expect(headerOf(miss.headers, 'x-recall-miss')).toBe(`GET ${base}/ones`);
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
    expect(served.output()).toContain('served 1 from the archive, 1 misses, 1 unused');
    expect(served.output()).toContain(`MISS GET ${base}/ones (nearest GET ${base}/one: path differ)`);
  });

  it('fails with one line and a non-zero exit', async () => {
    const missing = await recall(['ls', join(dir, 'nope.har')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^recall: .*nope\.har: cannot read the archive \(ENOENT\).* \[ERR_ARCHIVE_READ\]\n$/,
    );
    await writeFile(join(dir, 'cut.har'), '{"log": {"version": "1.2", "entr');
    const cut = await recall(['stats', join(dir, 'cut.har')]);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain('[ERR_ARCHIVE_PARSE]');
    expect(cut.stderr.trim().split('\n')).toHaveLength(1);
    const noArchive = await recall(['serve', '--mode', 'replay']);
    expect(noArchive.code).toBe(1);
    expect(noArchive.stderr).toBe(
      'recall: --mode replay needs --archive FILE (where to read the recording) [ERR_RECALL_INVALID_OPTION]\n',
    );
  });
});
