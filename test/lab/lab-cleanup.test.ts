// `lab up` then `lab down` leaves nothing behind: namespaces, links, routes, processes, mounts and files. Also
// after a `lab up` that was killed halfway, and `lab` refuses to run without root in one line.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { Lab } from '../../server/lab/lab.js';
import { uniqueLabName } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const labCli = `${root}bin/lab.js`;

/** Everything on the machine that carries the lab's name or lives in its state folder. */
async function traces(name: string): Promise<string[]> {
  const found: string[] = [];
  const ip = async (...args: string[]): Promise<string> => (await execa('ip', args)).stdout;
  for (const line of (await ip('netns', 'list')).split('\n'))
    if (line.startsWith(`${name}-`)) found.push(`namespace ${line}`);
  for (const line of (await ip('-o', 'link', 'show')).split('\n'))
    if (line.includes(`${name}-`)) found.push(`link ${line}`);
  for (const line of (await ip('-4', 'route', 'show')).split('\n'))
    if (line.includes(`${name}-`)) found.push(`route ${line}`);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of mounts.split('\n'))
    if (line.includes(`/${name}-`) || line.includes(`/autotest-lab/${name}`)) found.push(`mount ${line}`);
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    if (cmdline.includes(`/autotest-lab/${name}`) || cmdline.includes(` ${name}-`))
      found.push(`process ${pid} ${cmdline}`);
  }
  for (const path of [`/var/lib/autotest-lab/${name}`, `/etc/netns/${name}-srv`, `/run/netns/${name}-srv`, `/etc/netns/${name}-srv2`])
    if (existsSync(path)) found.push(`file ${path}`);
  const slots = await readdir('/var/lib/autotest-lab/slots').catch(() => []);
  for (const slot of slots)
    if ((await readFile(`/var/lib/autotest-lab/slots/${slot}`, 'utf8').catch(() => '')) === name)
      found.push(`slot ${slot}`);
  return found;
}

describe.skipIf(!isRoot)('lab up and lab down', () => {
  it('removes every namespace, link, route, process, mount and file it made', async () => {
    const name = uniqueLabName();
    const lab = await Lab.up({ name, devices: 2 });
    try {
      const during = await traces(name);
      expect(during.filter((t) => t.startsWith('namespace'))).toHaveLength(4);
      expect(during.some((t) => t.startsWith('link') && t.includes(`${name}-mgmt`))).toBe(true);
      expect(during.some((t) => t.startsWith('process'))).toBe(true);
    } finally {
      await lab.down();
    }
    expect(await traces(name)).toEqual([]);
    await lab.down(); // idempotent
    await Lab.downByName(name); // and harmless on a lab that is gone
  });

  it('cleans up after a lab up that was killed halfway', async () => {
    const name = uniqueLabName();
    const child = spawn(process.execPath, [labCli, 'up', '--name', name, '--devices', '2'], {
      stdio: 'ignore',
    });
    const state = `/var/lib/autotest-lab/${name}/state.json`;
    // Kill it once it has started processes in its namespaces: the worst moment to crash.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const text = await readFile(state, 'utf8').catch(() => '');
      if (text.includes('"dut1"') || Date.now() > deadline) break;
      await sleep(20);
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect((await traces(name)).length).toBeGreaterThan(0);
    const down = await execa(process.execPath, [labCli, 'down', '--name', name], { reject: false });
    expect(down.stderr).toBe('');
    expect(down.exitCode).toBe(0);
    expect(await traces(name)).toEqual([]);
  });

  it('cleans up a two-server lab killed halfway by its name alone, state file gone', async () => {
    const name = uniqueLabName();
    const child = spawn(process.execPath, [labCli, 'up', '--name', name, '--devices', '4', '--servers', '2'], {
      stdio: 'ignore',
    });
    const state = `/var/lib/autotest-lab/${name}/state.json`;
    const deadline = Date.now() + 90_000;
    for (;;) {
      const text = await readFile(state, 'utf8').catch(() => '');
      if (text.includes('"dut3"') || Date.now() > deadline) break;
      await sleep(20);
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(state, { force: true });
    const during = await traces(name);
    expect(during.some((t) => t.startsWith('namespace') && t.includes(`${name}-srv2`))).toBe(true);
    expect(during.some((t) => t.startsWith('link') && t.includes(`${name}-mgmt2`))).toBe(true);
    const down = await execa(process.execPath, [labCli, 'down', '--name', name], { reject: false });
    expect(down.stderr).toBe('');
    expect(down.exitCode).toBe(0);
    expect(await traces(name)).toEqual([]);
  });

  it('says in one line that it needs root', async () => {
    // The clone may sit in a folder only root can enter (mktemp makes them 0700): give the unprivileged
    // user a one-file bundle of the lab command in a folder it can read.
    const dir = await mkdtemp(join(tmpdir(), 'lab-cli-'));
    await chmod(dir, 0o755);
    const bundled = join(dir, 'lab.mjs');
    await build({
      entryPoints: [labCli],
      outfile: bundled,
      bundle: true,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    });
    const result = await execa(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        bundled,
        'up',
        '--name',
        uniqueLabName(),
      ],
      { reject: false },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/needs root.*ERR_LAB_NOT_ROOT/);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a bad name or device count before creating anything', async () => {
    await expect(Lab.up({ name: 'Bad_Name' })).rejects.toMatchObject({
      code: 'ERR_LAB_NAME',
      message: expect.stringContaining('"Bad_Name"'),
    });
    const name = uniqueLabName();
    await expect(Lab.up({ name, devices: -1 })).rejects.toMatchObject({
      code: 'ERR_LAB_OPTIONS',
      message: expect.stringContaining('-1'),
    });
    expect(await traces(name)).toEqual([]);
  });
});
