import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';

const control = new URL('../fixtures/control/client-tests.ts', import.meta.url).pathname;

describe.skipIf(!isRoot)('parallelSimple over three lab devices, one failing (needs root)', () => {
  const lab = useLab({ devices: 3 });

  it('finishes the others, gives each its own folder and status.log, and names the machine that failed', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'parallel-lab-')), 'results');
    const [a, b, c] = lab().devices;
    // The third device is asked on a port where nothing listens: its connection is refused.
    const broken = `root@${c!.address}:2`;
    const run = await runCli('autoserv', ['-r', dir, '-m', `${a!.address},${b!.address},${broken}`, '--ssh-key', lab().sshKey, '--known-hosts', lab().knownHosts, '-a', 'tests=platform_OsRelease', control]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`1 of 3 machines failed: root@${c!.address.replace(/\./g, '\\.')}:2 \\(.*(refused|ECONNREFUSED)`, 'i'));
    for (const device of [a!, b!]) {
      expect(readFileSync(join(dir, device.address, 'status.log'), 'utf8')).toMatch(/^END GOOD\tplatform_OsRelease\t/m);
      const keyval = readFileSync(join(dir, device.address, 'platform_OsRelease', 'keyval'), 'utf8');
      expect(keyval).toContain(`hostname=${device.hostname}`);
    }
    expect(existsSync(join(dir, `root@${c!.address}_2`, 'status.log'))).toBe(true);
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(json.tests.map((t: { name: string; status: string }) => [t.name, t.status]).sort()).toEqual([
      ['platform_OsRelease', 'GOOD'],
      ['platform_OsRelease', 'GOOD'],
      [broken, 'ERROR'],
    ]);
  });
});
