// SSHHost against real sshd on lab devices: commands, reuse and re-establishment of the connection, timeouts
// that leave nothing behind, and reboots detected by boot id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type SSHHost } from '../../server/hosts/index.js';
import { useLab } from '../helpers/lab.js';
import { deviceProcesses, poll } from '../helpers/device-processes.js';
import { isRoot } from '../helpers/root.js';

describe.skipIf(!isRoot)('SSHHost on a lab device', () => {
  const lab = useLab({ devices: 1 });
  let host: SSHHost;
  let device: ReturnType<typeof lab>['devices'][number];

  beforeAll(async () => {
    const status = lab();
    device = status.devices[0]!;
    host = await createHost(`root@${device.address}:22`, {
      sshKey: status.sshKey,
      knownHostsFile: status.knownHosts,
    });
  });
  afterAll(async () => {
    await host?.close();
  });

  it('runs a command and returns stdout, stderr, exit status and duration', async () => {
    const result = await host.run('echo out; echo err >&2; hostname');
    expect(result).toMatchObject({
      command: 'echo out; echo err >&2; hostname',
      stdout: `out\n${device.hostname}\n`,
      stderr: 'err\n',
      exitStatus: 0,
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('passes stdin and env, and quotes env values', async () => {
    const result = await host.run('cat; printf "%s|%s" "$GREETING" "$QUOTED"', {
      stdin: 'from stdin\n',
      env: { GREETING: 'hello world', QUOTED: `it's "$HOME"` },
    });
    expect(result.stdout).toBe(`from stdin\nhello world|it's "$HOME"`);
  });

  it('throws HostRunError naming host, command, status and the end of stderr', async () => {
    const error = await host
      .run('echo first line >&2; echo "the real reason" >&2; exit 3')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_HOST_RUN',
      hostname: device.address,
      result: { exitStatus: 3 },
    });
    expect((error as Error).message).toContain(device.address);
    expect((error as Error).message).toContain('exit 3');
    expect((error as Error).message).toContain('exit status 3');
    expect((error as Error).message).toContain('the real reason');
    await expect(host.run('exit 4', { ignoreStatus: true })).resolves.toMatchObject({ exitStatus: 4 });
  });

  it('reuses one connection for every command, also in parallel', async () => {
    const before = host.connectCount;
    const parents = await Promise.all(Array.from({ length: 12 }, () => host.run('echo $PPID')));
    // The parent of each command's shell is the connection's sshd process: one for all.
    const sessions = new Set(parents.map((r) => r.stdout.trim()));
    expect(sessions.size).toBe(1);
    expect(host.connectCount).toBe(before);
  });

  it('kills the whole remote process group on timeout, leaving nothing behind', async () => {
    const marker = `sleep 7${Math.floor(Math.random() * 1e6)}`;
    const error = await host
      .run(`${marker} & ${marker} & sh -c '${marker}'; echo never`, { timeout: 1 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_HOST_TIMEOUT', timeoutSec: 1, hostname: device.address });
    expect(await poll(async () => (await deviceProcesses(device.namespace, marker)).length === 0)).toBe(true);
    await expect(host.run('echo still usable')).resolves.toMatchObject({ stdout: 'still usable\n' });
  });

  it('stops a command on abort and rethrows the signal reason', async () => {
    const marker = `sleep 8${Math.floor(Math.random() * 1e6)}`;
    const controller = new AbortController();
    const running = host.run(marker, { signal: controller.signal });
    expect(await poll(async () => (await deviceProcesses(device.namespace, marker)).length > 0)).toBe(true);
    controller.abort(new Error('stop it'));
    await expect(running).rejects.toThrow('stop it');
    expect(await poll(async () => (await deviceProcesses(device.namespace, marker)).length === 0)).toBe(true);
  });

  it('re-establishes a dropped connection', async () => {
    const before = host.connectCount;
    const sshdOf = async (): Promise<string> => (await host.run('echo $PPID')).stdout.trim();
    const first = await sshdOf();
    // Kill the connection's sshd process: the connection drops under the running command.
    const error = await host.run('kill -9 $PPID; sleep 30', { timeout: 60 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_HOST_UNREACHABLE' });
    const second = await sshdOf();
    expect(second).not.toBe(first);
    expect(host.connectCount).toBe(before + 1);
  });

  it('reports isUp and detects a reboot through the boot id', async () => {
    expect(await host.isUp()).toBe(true);
    const oldBootId = await host.bootId();
    expect(oldBootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await host.waitDown(1, oldBootId)).toBe(false); // still up with the same boot
    await host.reboot({ timeoutSec: 30 });
    const newBootId = await host.bootId();
    expect(newBootId).not.toBe(oldBootId);
    expect(await host.waitUp(10)).toBe(true);
    expect(await host.waitDown(10, oldBootId)).toBe(true); // a new boot counts as having gone down
  });

  it('refuses calls after close', async () => {
    const status = lab();
    const other = await createHost(device.address, {
      sshKey: status.sshKey,
      knownHostsFile: status.knownHosts,
    });
    await other.close();
    await other.close();
    await expect(other.run('true')).rejects.toMatchObject({ code: 'ERR_HOST_CLOSED' });
  });
});
