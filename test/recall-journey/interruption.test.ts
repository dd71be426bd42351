import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SSHHost } from '../../server/hosts/index.js';
import { fixtureTestsDir } from '../helpers/job.js';
import { useLab } from '../helpers/lab.js';
import { connect, deviceState, runInServer, serverState, sshArgs, startInServer } from '../helpers/recall-journey.js';
import { isRoot } from '../helpers/root.js';
import { dropSshSessions } from '../helpers/ssh-sessions.js';

const until = async (what: () => boolean, timeoutMs = 120_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe.skipIf(!isRoot)('interrupted Recall runs leave nothing behind (needs root)', () => {
  const lab = useLab({ devices: 1 });
  let host: SSHHost;
  let before: { device: string; server: ReturnType<typeof serverState> };
  const root = mkdtempSync(join(tmpdir(), 'recall-interrupt-'));

  beforeAll(async () => {
    host = await connect(lab());
    before = { device: await deviceState(host), server: serverState(lab()) };
  });
  afterAll(async () => host?.close());

  /** Starts a run whose client test sleeps, and waits until it is inside the test on the device. */
  async function startSleepingRun(name: string, seconds: number) {
    const dir = join(root, name);
    const run = startInServer(lab(), 'autoserv', ['-m', lab().devices[0]!.address, ...sshArgs(lab()), '--tests-dir', fixtureTestsDir, '-r', dir, '-a', `fixture_ClientSleep seconds=${seconds}`, join(fixtureTestsDir, '..', '..', '..', 'site_tests', 'test_RecallServer', 'control.ts')]);
    const statusLog = join(dir, 'status.log');
    await until(() => existsSync(statusLog) && readFileSync(statusLog, 'utf8').includes('START\ttest_RecallServer/fixture_ClientSleep'));
    expect(serverState(lab()).nat).toMatch(/RECALL-/);
    return { run, dir };
  }

  it.each(['SIGINT', 'SIGTERM'] as const)('on %s restores the iptables rules, sysctls and the device', async (signal) => {
    const { run, dir } = await startSleepingRun(signal, 60);
    run.child.kill(signal);
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(readFileSync(join(dir, 'status.log'), 'utf8')).toMatch(/END ABORT\ttest_RecallServer\t/);
    expect(serverState(lab())).toEqual(before.server);
    // The client job got SIGTERM from the server, recorded ABORT and RecallContext put the device back.
    await until(() => readFileSync(join(dir, 'status.log'), 'utf8').length > 0);
    expect(await deviceState(host)).toBe(before.device);
  });

  it('finishes and cleans up when the device’s SSH connection crashes mid-run', async () => {
    const { run, dir } = await startSleepingRun('ssh-crash', 5);
    expect(dropSshSessions(lab().devices[0]!.namespace)).toBeGreaterThan(0);
    const result = await run.done;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(readFileSync(join(dir, 'status.log'), 'utf8')).toMatch(/END GOOD\ttest_RecallServer\t/);
    expect(serverState(lab())).toEqual(before.server);
    expect(await deviceState(host)).toBe(before.device);
  });

  it('after SIGKILL, the next run removes the rules and restores the sysctls it left', async () => {
    const { run } = await startSleepingRun('sigkill', 4);
    run.child.kill('SIGKILL');
    await run.done;
    expect(serverState(lab()).nat).toMatch(/RECALL-/);
    const cleanup = await runInServer(lab(), 'recall', ['cleanup']);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(/removed RECALL-[0-9a-f]+/);
    expect(serverState(lab())).toEqual(before.server);
    // The detached client job finishes its short test on the device, and RecallContext restores the device.
    for (let i = 0; i < 100 && (await deviceState(host)) !== before.device; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await deviceState(host)).toBe(before.device);
  });
});
