import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { fixtureTestsDir } from '../helpers/job.js';
import { useLab } from '../helpers/lab.js';
import { runInServer, serverState, sshArgs } from '../helpers/recall-journey.js';
import { isRoot } from '../helpers/root.js';

describe.skipIf(!isRoot)('Recall on several devices, as a proxy, and through a subclass (needs root)', () => {
  const lab = useLab({ devices: 2 });
  const root = mkdtempSync(join(tmpdir(), 'recall-fleet-'));

  it('serves two devices at once from one job through control/recall_all_machines.ts', async () => {
    const [a, b] = lab().devices;
    const before = serverState(lab());
    const dir = join(root, 'fleet');
    const run = await runInServer(lab(), 'autoserv', ['-m', `${a!.address},${b!.address}`, ...sshArgs(lab()), '--tests-dir', fixtureTestsDir, '-r', dir, '-a', 'test=fixture_Curl num_iterations=2', `${repoRoot}/control/recall_all_machines.ts`]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const device of [a!, b!]) {
      const testDir = join(dir, device.address, 'test_RecallServer');
      expect(existsSync(join(testDir, 'archive.har.gz'))).toBe(true);
      expect(readFileSync(join(testDir, 'results', 'keyval'), 'utf8')).toMatch(/recall_misses\{perf\}=0/);
    }
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(json.tests.filter((t: { name: string }) => t.name === 'test_RecallServer').map((t: { machine: string; status: string }) => [t.machine, t.status]).sort()).toEqual([
      [a!.address, 'GOOD'],
      [b!.address, 'GOOD'],
    ]);
    expect(serverState(lab())).toEqual(before);
  }, 300_000);

  it('proxies without recording with proxy_only=1', async () => {
    const dir = join(root, 'proxy');
    const run = await runInServer(lab(), 'run-remote', ['--remote', lab().devices[0]!.address, ...sshArgs(lab()), '--tests-dir', fixtureTestsDir, '--results-dir', dir, 'test_RecallServer', '-a', 'fixture_Curl proxy_only=1 num_iterations=2']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const testDir = join(dir, 'test_RecallServer', 'test_RecallServer');
    expect(existsSync(join(testDir, 'archive.har.gz'))).toBe(false);
    expect(readFileSync(join(testDir, 'keyval'), 'utf8')).toContain('recall_mode=proxy');
  });

  it('runs the RecallServerTest subclass example (test_MyTest)', async () => {
    const dir = join(root, 'subclass');
    const run = await runInServer(lab(), 'run-remote', ['--remote', lab().devices[1]!.address, ...sshArgs(lab()), '--tests-dir', fixtureTestsDir, '--results-dir', dir, 'test_MyTest', '-a', 'test=fixture_Curl']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^fixture_Curl\s+\S+\s+GOOD/m);
  });

  it('refuses to intercept an address of the server itself, with a one-line reason', async () => {
    const dir = join(root, 'self');
    const run = await runInServer(lab(), 'autoserv', ['-m', lab().serverAddress, ...sshArgs(lab()), '--accept-new-host-keys', '-r', dir, '-a', 'fixture_Curl', `${repoRoot}/site_tests/test_RecallServer/control.ts`]);
    expect(run.code).not.toBe(0);
    expect(readFileSync(join(dir, 'status.log'), 'utf8')).toMatch(/refused|ECONNREFUSED|address of this machine/);
  });
});
