// The recording journal: completed exchanges and DNS answers reach ARCHIVE.journal as they complete, so a recording
// killed at any moment (SIGKILL, while recording or while saving) keeps every exchange a client saw complete, and
// the archive file on disk always loads. Real `recall serve` processes, a real origin, a real DNS authority.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, runCli } from '../helpers/cli.js';
import { writeFileAtomic } from '../../lib/fs-atomic.js';
import { startAuthority, type Authority } from '../helpers/authoritative-dns.js';
import { startOrigin, loopbackLookup, type Origin } from './http-fixtures.js';
import {
  Archive,
  DNSClient,
  HTTPClient,
  journalPath,
  recordingClients,
  type RecordedRequest,
} from '../../lib/recall/index.js';

function get(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { Host: host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function request(host: string, target: string): RecordedRequest {
  return { method: 'GET', scheme: 'http', host, target, httpVersion: '1.1', headers: [['Host', host]], body: Buffer.alloc(0) };
}

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body);
}

describe('recording journal', () => {
  let dir: string;
  let origin: Origin;
  let authority: Authority;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-journal-'));
    // Bodies large enough that a save takes a while; half with Content-Length, half chunked.
    origin = await startOrigin((req, res) => {
      const body = `${req.url} `.repeat(4000);
      if (req.url!.includes('chunked')) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write(body.slice(0, 100));
        res.end(body.slice(100));
      } else {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      }
    });
    authority = await startAuthority({ zone: { 'www.journal.test': [{ type: 'A', data: '192.0.2.7' }] } });
  });

  afterAll(async () => {
    await origin.close();
    await authority.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes each exchange and DNS answer as it completes (mode 0600), loads it while the archive is missing, and recover turns it into the archive', async () => {
    const file = join(dir, 'unit.har.gz');
    const archive = Archive.create();
    const journal = await archive.journalTo(file);
    const clients = recordingClients(archive, {
      dns: new DNSClient({ servers: [{ host: '127.0.0.1', port: authority.port }] }),
      http: new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true }),
    });
    const host = `site.test:${origin.port}`;
    await drain((await clients.http.exchange(request(host, '/one'))).body);
    await drain((await clients.http.exchange(request(host, '/two-chunked'))).body);
    const answer = await clients.dns.resolve({ name: 'www.journal.test', type: 'A' });
    expect(answer.data).toEqual(['192.0.2.7']);
    // Already on disk, without any save: the process could die now.
    const lines = (await readFile(journal.file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.slice(1).map((l) => Object.keys(JSON.parse(l))[0])).toEqual(['entry', 'entry', 'dns']);
    expect((await stat(journal.file)).mode & 0o777).toBe(0o600);
    // A line cut by a kill is left out.
    await writeFile(journal.file, `${lines.join('\n')}\n{"entry":{"startedDate`);
    const loaded = await Archive.load(file);
    expect(loaded.exchanges.map((e) => e.request.target).sort()).toEqual(['/one', '/two-chunked']);
    expect(loaded.recall.dns).toMatchObject([{ name: 'www.journal.test', data: ['192.0.2.7'] }]);
    expect(loaded.recall.randomSeed).toBe(archive.recall.randomSeed);
    expect(loaded.warnings.join('\n')).toContain('recall recover');
    // A new recording into the same file refuses to overwrite the interrupted one.
    await expect(Archive.create().journalTo(file)).rejects.toMatchObject({ code: 'ERR_ARCHIVE_JOURNAL' });
    const recovered = await runCli('recall', ['recover', file]);
    expect(recovered.stderr).toBe('');
    expect(recovered.stdout).toContain('recovered 2 exchanges and 1 DNS answers');
    expect(existsSync(journalPath(file))).toBe(false);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await Archive.load(file)).size).toBe(2);
    await journal.close();
    await clients.http.close();
  });

  it('an atomic write removes the temporary files that killed writers of the same file left, not those of live ones', async () => {
    const target = join(dir, 'state.json');
    const dead = join(dir, '.state.json.2147483646.0badcafe.tmp');
    const live = join(dir, `.state.json.${process.ppid}.0badcafe.tmp`);
    const other = join(dir, '.other.json.2147483646.0badcafe.tmp');
    for (const file of [dead, live, other]) await writeFile(file, 'half');
    await writeFileAtomic(target, 'whole');
    expect(await readFile(target, 'utf8')).toBe('whole');
    expect([existsSync(dead), existsSync(live), existsSync(other)]).toEqual([false, true, true]);
    await rm(live);
    await rm(other);
  });

  it('survives SIGKILL while recording and while saving: 20 trials at random moments', async () => {
    const caDir = join(dir, 'ca');
    const host = `127.0.0.1:${origin.port}`;
    // A folder of its own per run: a retried run must not find the files of the one before.
    const trials = await mkdtemp(join(dir, 'kills-'));
    for (let trial = 0; trial < 20; trial++) {
      const file = join(trials, `kill-${trial}.har`);
      const served = startCli('recall', [
        'serve', '--mode', 'record', '--archive', file, '--ca-dir', caDir, '--allow-local-upstreams',
      ]);
      for (let i = 0; i < 3000 && !served.output().includes('ready'); i++) await new Promise((r) => setTimeout(r, 10));
      expect(served.output()).toContain('ready');
      const port = Number(/^http\s+[^\s]+:(\d+)/m.exec(served.output())![1]);
      const completed = new Set<string>();
      let stop = false;
      const worker = async (w: number) => {
        for (let n = 0; !stop && n < 500; n++) {
          const path = `/t${trial}/w${w}/n${n}${n % 2 ? '-chunked' : ''}`;
          const answer = await get(port, host, path).catch(() => undefined);
          if (answer?.status === 200 && answer.body === `${path} `.repeat(4000)) completed.add(path);
          else if (answer) throw new Error(`${path}: status ${answer.status}, ${answer.body.length} bytes`);
        }
      };
      const workers = [0, 1, 2, 3].map(worker);
      // The random moment starts once exchanges are flowing: on a loaded machine the first can take longer than it.
      for (let i = 0; i < 3000 && completed.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
      const duringSave = trial % 2 === 1;
      if (duringSave) {
        // SIGTERM starts the save; the kill lands somewhere in it (a temporary file left behind), or after it.
        served.child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * (trial % 4 === 1 ? 30 : 300))));
      }
      served.child.kill('SIGKILL');
      stop = true;
      await Promise.allSettled(workers);
      await served.done;
      expect(completed.size, `trial ${trial}: some requests completed`).toBeGreaterThan(0);
      // The file on disk always loads, whole; with the journal, nothing a client saw complete is missing.
      if (existsSync(file)) await Archive.load(file);
      if (existsSync(journalPath(file))) {
        const recovered = await runCli('recall', ['recover', file]);
        expect(recovered.stderr, `trial ${trial}`).toBe('');
      }
      const archive = await Archive.load(file);
      const recorded = new Set(archive.exchanges.map((e) => e.request.target));
      const lost = [...completed].filter((path) => !recorded.has(path));
      expect(lost, `trial ${trial} (${duringSave ? 'during the save' : 'while recording'})`).toEqual([]);
      const leftovers = (await readdir(trials)).filter((name) => name.startsWith(`.kill-${trial}.`) || name.endsWith('.journal'));
      expect(leftovers, `trial ${trial}`).toEqual([]);
    }
  });
});
