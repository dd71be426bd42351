import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyvals } from '../../lib/keyval.js';
import type { SSHHost } from '../../server/hosts/index.js';
import { fixtureTestsDir } from '../helpers/job.js';
import { useLab } from '../helpers/lab.js';
import { connect, deviceState, runInServer, serverState, sshArgs } from '../helpers/recall-journey.js';
import { isRoot } from '../helpers/root.js';

/** The digests fixture_Curl recorded for each page in one iteration. */
function digests(dir: string): Record<string, string | number> {
  const keyvals = parseKeyvals(readFileSync(join(dir, 'results', 'keyval'), 'utf8'), { stripTypes: true });
  return Object.fromEntries(Object.entries(keyvals).filter(([k]) => k.endsWith('_sha256')));
}

describe.skipIf(!isRoot)('recording, then playing back without the internet (needs root)', () => {
  const lab = useLab({ devices: 1 });
  let host: SSHHost;
  let before: { device: string; server: ReturnType<typeof serverState> };
  const root = mkdtempSync(join(tmpdir(), 'recall-journey-'));
  const testDir = (run: string) => join(root, run, 'test_RecallServer', 'test_RecallServer');

  beforeAll(async () => {
    host = await connect(lab());
    before = { device: await deviceState(host), server: serverState(lab()) };
  });
  afterAll(async () => host?.close());

  it('records on the first iteration and plays back identical pages on the others', async () => {
    const run = await runInServer(lab(), 'run-remote', ['--remote', lab().devices[0]!.address, ...sshArgs(lab()), '--tests-dir', fixtureTestsDir, '--results-dir', join(root, 'record'), 'test_RecallServer', '-a', 'fixture_Curl num_iterations=3']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('Total PASS: 4/4 (100%)');
    const recorded = digests(join(testDir('record'), 'fixture_Curl.iteration1'));
    expect(Object.keys(recorded)).toHaveLength(3);
    for (const i of [2, 3]) expect(digests(join(testDir('record'), `fixture_Curl.iteration${i}`))).toEqual(recorded);
    const misses = readFileSync(join(testDir('record'), 'results', 'keyval'), 'utf8');
    expect(misses).toMatch(/recall_misses\{perf\}=0/);
    expect(misses).toMatch(/recall_hits\{perf\}=3/);
    expect(existsSync(join(testDir('record'), 'archive.har.gz'))).toBe(true);
  });

  it('left the server and the device exactly as they were', async () => {
    expect(serverState(lab())).toEqual(before.server);
    expect(await deviceState(host)).toBe(before.device);
  });

  it('plays the saved archive back with the internet namespace gone, missing nothing', async () => {
    const internet = lab().internet.namespace;
    for (const pid of execFileSync('ip', ['netns', 'pids', internet], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      process.kill(Number(pid), 'SIGKILL');
    }
    execFileSync('ip', ['netns', 'del', internet]);
    // Nothing in the server namespace leads toward the internet any more: no route to its DNS server. The kernel
    // tears a deleted namespace down asynchronously (its links go last), so under load the route lingers a moment.
    const routeToInternet = () => {
      try {
        execFileSync('ip', ['netns', 'exec', lab().serverNamespace, 'ip', 'route', 'get', lab().internet.dnsAddress], { stdio: 'pipe' });
        return true;
      } catch {
        return false;
      }
    };
    for (const end = Date.now() + 15_000; routeToInternet() && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(routeToInternet()).toBe(false);
    // Its link went with it; what is left of the server is the baseline from now on.
    before.server = serverState(lab());

    const archive = join(testDir('record'), 'archive.har.gz');
    const run = await runInServer(lab(), 'run-remote', ['--remote', lab().devices[0]!.address, ...sshArgs(lab()), '--tests-dir', fixtureTestsDir, '--results-dir', join(root, 'replay'), 'test_RecallServer', '-a', `fixture_Curl ${archive} num_iterations=2 strict=1`]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const recorded = digests(join(testDir('record'), 'fixture_Curl.iteration1'));
    for (const i of [1, 2]) expect(digests(join(testDir('replay'), `fixture_Curl.iteration${i}`))).toEqual(recorded);
    expect(readFileSync(join(testDir('replay'), 'results', 'keyval'), 'utf8')).not.toMatch(/recall_(dns_)?misses\{perf\}=[1-9]/);
    expect(serverState(lab())).toEqual(before.server);
    expect(await deviceState(host)).toBe(before.device);
  });

  it('fails a playback iteration under strict=1 when a request is not in the archive, naming it', async () => {
    const archive = join(testDir('record'), 'archive.har.gz');
    const run = await runInServer(lab(), 'run-remote', ['--remote', lab().devices[0]!.address, ...sshArgs(lab()), '--tests-dir', fixtureTestsDir, '--results-dir', join(root, 'strict'), 'test_RecallServer', '-a', `fixture_Curl ${archive} strict=1 urls=https://static.lab.test/never-recorded`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/test_RecallServer\s+\S+\s+FAIL/);
    const misses = JSON.parse(readFileSync(join(testDir('strict'), 'results', 'misses.1.json'), 'utf8'));
    expect(misses[0]).toMatchObject({ method: 'GET', url: 'https://static.lab.test/never-recorded' });
    expect(misses[0].nearest.differences.map((d: { field: string }) => d.field)).toContain('path');
  });
});
