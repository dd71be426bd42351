import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { isRoot } from '../helpers/root.js';

// Two Recall runs, each a real process with real iptables and sysctls, inside a namespace of this test's own.
describe.skipIf(!isRoot)('DeviceInterception shared by several devices and runs (needs root)', () => {
  const namespace = `atdi-${process.pid}-${randomBytes(2).toString('hex')}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'interception-state-'));
  const drivers: ChildProcess[] = [];
  const inNamespace = (...cmd: string[]) => execFileSync('ip', ['netns', 'exec', namespace, ...cmd], { encoding: 'utf8' });

  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', namespace]);
    execFileSync('ip', ['-n', namespace, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']);
    execFileSync('ip', ['-n', namespace, 'addr', 'add', '198.18.50.1/24', 'dev', 'd0']);
    execFileSync('ip', ['-n', namespace, 'link', 'set', 'd0', 'up']);
    execFileSync('ip', ['-n', namespace, 'link', 'set', 'd1', 'up']);
    inNamespace('sh', '-c', 'echo 1 > /proc/sys/net/ipv4/conf/all/send_redirects; echo 1 > /proc/sys/net/ipv4/conf/d0/send_redirects');
    // One "device" with a known MAC address (an on-link neighbour); 198.18.50.3 has none.
    inNamespace('ip', 'neigh', 'add', '198.18.50.2', 'lladdr', '02:00:00:00:50:02', 'dev', 'd0', 'nud', 'permanent');
  });

  afterAll(() => {
    for (const driver of drivers) driver.kill('SIGKILL');
    for (const pid of execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    execFileSync('ip', ['netns', 'del', namespace]);
    rmSync(stateDir, { recursive: true, force: true });
  });

  function startRun() {
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, join(repoRoot, 'test/fixtures/net/interception-driver.mjs')], {
      env: { ...process.env, AUTOTEST_RECALL_STATE_DIR: stateDir },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    drivers.push(child);
    const answers = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    return {
      child,
      async send(command: string, args: Record<string, unknown> = {}) {
        child.stdin!.write(JSON.stringify({ command, ...args }) + '\n');
        const answer = JSON.parse((await answers.next()).value as string) as { ok: boolean; value: unknown; error?: string };
        expect(answer.error).toBeUndefined();
        return answer.value;
      },
    };
  }

  const state = async (run: ReturnType<typeof startRun>) => (await run.send('state', { device: 'd0' })) as { nat: string; filter: string; filter6: string; all: string; device: string };
  const jumpsFor = (nat: string) => [...nat.matchAll(/^-A PREROUTING -s (\S+)\/32 .* -j RECALL-\S+$/gm)].map((m) => m[1]).sort();

  it('keeps every device of a job intercepted until its own end, and redirects off until the last one ends', async () => {
    const run = startRun();
    await run.send('install', { addresses: ['198.18.50.2', '198.18.50.3'], device: 'd0' });
    let now = await state(run);
    expect(jumpsFor(now.nat)).toEqual(['198.18.50.2', '198.18.50.3']);
    expect([now.all, now.device]).toEqual(['0', '0']);

    await run.send('remove', { addresses: ['198.18.50.2'] });
    now = await state(run);
    expect(jumpsFor(now.nat)).toEqual(['198.18.50.3']);
    expect([now.all, now.device]).toEqual(['0', '0']);

    await run.send('remove', { addresses: ['198.18.50.3'] });
    now = await state(run);
    expect(now.nat).not.toMatch(/RECALL-/);
    expect([now.all, now.device]).toEqual(['1', '1']);
    run.child.stdin!.end();
  });

  it('lets a second run inherit the original values, and the next run undo one that was killed', async () => {
    const first = startRun();
    const second = startRun();
    await first.send('install', { addresses: ['198.18.50.2'], device: 'd0' });
    await second.send('install', { addresses: ['198.18.50.4'], device: 'd0' });
    await first.send('remove', { addresses: ['198.18.50.2'] });
    let now = await state(first);
    expect(jumpsFor(now.nat)).toEqual(['198.18.50.4']);
    expect([now.all, now.device]).toEqual(['0', '0']);

    second.child.kill('SIGKILL');
    await new Promise((resolve) => second.child.once('close', resolve));
    const cleaned = (await first.send('cleanup')) as string[];
    expect(cleaned).toHaveLength(1);
    now = await state(first);
    expect(now.nat).not.toMatch(/RECALL-/);
    expect([now.all, now.device]).toEqual(['1', '1']);
    first.child.stdin!.end();
  });

  it('seals devices for playback in the filter tables, IPv6 by MAC, and a killed run\'s seal is swept', async () => {
    const run = startRun();
    await run.send('install', { addresses: ['198.18.50.2', '198.18.50.3'], device: 'd0' });
    await run.send('seal', { addresses: ['198.18.50.2', '198.18.50.3'] });
    await run.send('seal', { addresses: ['198.18.50.2'] });
    const now = await state(run);
    const forward = (rules: string) => [...rules.matchAll(/^-A FORWARD (.*) -j (RECALL-\S+)$/gm)].map((m) => m[1]!.replace(/ -m comment .*/, ''));
    expect(forward(now.filter).sort()).toEqual(['-s 198.18.50.2/32', '-s 198.18.50.3/32']);
    expect(forward(now.filter6)).toEqual(['-m mac --mac-source 02:00:00:00:50:02']);
    // Per chain: QUIC refused with port unreachable, other TCP reset, anything else rejected.
    const chain = /-j (RECALL-\S+)$/m.exec(now.filter6)![1]!;
    expect(now.filter).toContain(`-A ${chain} -p udp -m udp --dport 443 -m comment`);
    expect(now.filter).toMatch(new RegExp(`-A ${chain} -p tcp -m comment .* -j REJECT --reject-with tcp-reset`));
    expect(now.filter6).toMatch(new RegExp(`-A ${chain} -m comment .* -j REJECT --reject-with icmp6-port-unreachable`));

    await run.send('remove', { addresses: ['198.18.50.3'] });
    expect(forward((await state(run)).filter)).toEqual(['-s 198.18.50.2/32']);
    run.child.kill('SIGKILL');
    await new Promise((resolve) => run.child.once('close', resolve));
    const next = startRun();
    expect(await next.send('cleanup')).toHaveLength(1);
    const after = await state(next);
    expect(after.nat + after.filter + after.filter6).not.toMatch(/RECALL-/);
    next.child.stdin!.end();
  });
});
