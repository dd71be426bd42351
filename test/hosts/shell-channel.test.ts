// SSHHost with `persistentShell` against real sshd on a lab device: commands go through one long-lived shell
// and keep the exec channel's semantics exactly (checked against a host that uses exec channels).
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type SSHHost } from '../../server/hosts/index.js';
import { namespacePids } from '../../server/lab/lab-network.js';
import { useLab } from '../helpers/lab.js';
import { cmdline, deviceProcesses, poll } from '../helpers/device-processes.js';
import { isRoot } from '../helpers/root.js';

/** Processes on the machine whose session id is `sid`. */
async function sessionMembers(namespace: string, sid: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await namespacePids(namespace)) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3] === sid) found.push(pid);
  }
  return found;
}

// The perl driver (the device has perl) and the POSIX-sh driver devices without perl use; `driver` starts the
// driver's command line on the device.
describe.skipIf(!isRoot).each([
  { persistentShell: true as const, driver: 'perl -e' },
  { persistentShell: 'sh' as const, driver: 'sh -s' },
])('SSHHost with a persistent shell ($driver)', ({ persistentShell, driver }) => {
  const lab = useLab({ devices: 1 });
  let host: SSHHost;
  /** The same device through exec channels: what every answer must equal. */
  let exec: SSHHost;
  let device: ReturnType<typeof lab>['devices'][number];
  /** The pid of the shell the commands run under: their $PPID. */
  const shellPid = async (): Promise<string> => (await host.run('echo $PPID')).stdout.trim();

  beforeAll(async () => {
    const status = lab();
    device = status.devices[0]!;
    const options = { sshKey: status.sshKey, knownHostsFile: status.knownHosts };
    host = await createHost(`root@${device.address}:22`, { ...options, persistentShell });
    exec = await createHost(`root@${device.address}:22`, options);
  });
  afterAll(async () => {
    await host?.close();
    await exec?.close();
  });

  it('runs 20 commands in one long-lived shell on the device', async () => {
    const parents = new Set<string>();
    for (let i = 0; i < 20; i++) parents.add((await host.run('echo $PPID')).stdout.trim());
    expect(parents.size).toBe(1);
    const [pid] = [...parents];
    expect(await cmdline(pid!)).toMatch(new RegExp(`^${driver}`));
    expect(await deviceProcesses(device.namespace, driver)).toContain(Number(pid));
    // The exec path's commands are children of sshd instead.
    expect((await exec.run('echo $PPID')).stdout.trim()).not.toBe(pid);
  });

  it('reports exit statuses exactly, 128+N for a signal', async () => {
    for (const [command, status] of [
      ['true', 0],
      ['exit 7', 7],
      ['false', 1],
      ['kill -TERM $$', 143],
      ['kill -KILL $$', 137],
      ['exit 255', 255],
      ['no-such-command-here', 127],
    ] as const) {
      const shell = await host.run(command, { ignoreStatus: true });
      const viaExec = await exec.run(command, { ignoreStatus: true });
      expect({ command, status: shell.exitStatus }).toEqual({ command, status });
      expect(shell.exitStatus).toBe(viaExec.exitStatus);
    }
    await expect(host.run('exit 3')).rejects.toMatchObject({
      code: 'ERR_HOST_RUN',
      result: { exitStatus: 3 },
    });
  });

  it('keeps stdout and stderr separate and byte-exact: no trailing newline, control bytes, large output', async () => {
    const commands = [
      'printf out; printf err >&2',
      'printf ""',
      "printf 'a\\000b\\001\\377\\r\\n\\036AUTOTEST_PID=1\\n\\036x'; printf '\\036y\\000' >&2",
      "echo one; echo two >&2; printf 'three'",
      'head -c 3000000 /dev/zero | tr "\\0" o; head -c 1000000 /dev/zero | tr "\\0" e >&2',
    ];
    for (const command of commands) {
      const shell = await host.run(command);
      const viaExec = await exec.run(command);
      expect({ command, stdout: shell.stdout, stderr: shell.stderr }).toEqual({
        command,
        stdout: viaExec.stdout,
        stderr: viaExec.stderr,
      });
    }
    const large = await host.run('head -c 3000000 /dev/zero | tr "\\0" o');
    expect(large.stdout.length).toBe(3_000_000);
  });

  it('waits, as an exec channel does, for a background process that holds stdout', async () => {
    const result = await host.run('(sleep 1; echo late; echo late-err >&2) & echo early');
    expect(result.stdout).toBe('early\nlate\n');
    expect(result.stderr).toBe('late-err\n');
    // A background process that let go of stdout does not hold the command.
    const detached = await host.run('sleep 5 >/dev/null 2>&1 & echo back');
    expect(detached.stdout).toBe('back\n');
  });

  it('passes env, newlines, quotes and here-docs', async () => {
    const command = [
      'printf "%s|%s\\n" "$GREETING" "$QUOTED"',
      'echo \'single "double" $HOME\'',
      'cat <<EOF',
      'here $GREETING',
      "it's",
      'EOF',
      "cat <<'RAW'",
      'raw $GREETING `x`',
      'RAW',
    ].join('\n');
    const options = { env: { GREETING: 'hello world', QUOTED: `it's "$HOME" \`x\`\nline` } };
    const shell = await host.run(command, options);
    expect(shell.stdout).toBe(
      `hello world|it's "$HOME" \`x\`\nline\nsingle "double" $HOME\nhere hello world\nit's\nraw $GREETING \`x\`\n`,
    );
    expect(shell.stdout).toBe((await exec.run(command, options)).stdout);
  });

  it('starts the login shell with the argv[0] sshd gives it (perl), or its path (sh)', async () => {
    const viaExec = (await exec.run('echo "$0"')).stdout;
    expect(viaExec).toBe('bash\n');
    expect((await host.run('echo "$0"')).stdout).toBe(driver === 'perl -e' ? viaExec : '/bin/bash\n');
  });

  it('kills the whole session on timeout and keeps the shell for the next command', async () => {
    const before = await shellPid();
    const marker = `sleep 7${Math.floor(Math.random() * 1e6)}`;
    const error = await host
      .run(`${marker} & ${marker} & sh -c '${marker}'; echo never`, { timeout: 1 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_HOST_TIMEOUT', timeoutSec: 1, hostname: device.address });
    expect(await poll(async () => (await deviceProcesses(device.namespace, marker)).length === 0)).toBe(true);
    await expect(host.run('echo still usable')).resolves.toMatchObject({ stdout: 'still usable\n' });
    expect(await shellPid()).toBe(before);
  });

  it('stops a command on abort, rethrows the reason, and keeps the shell', async () => {
    const before = await shellPid();
    const marker = `sleep 8${Math.floor(Math.random() * 1e6)}`;
    const controller = new AbortController();
    const running = host.run(marker, { signal: controller.signal });
    expect(await poll(async () => (await deviceProcesses(device.namespace, marker)).length > 0)).toBe(true);
    controller.abort(new Error('stop it'));
    await expect(running).rejects.toThrow('stop it');
    expect(await poll(async () => (await deviceProcesses(device.namespace, marker)).length === 0)).toBe(true);
    expect(await shellPid()).toBe(before);
  });

  it('runs concurrent calls on exec channels while the shell is busy, each with its own output', async () => {
    const shell = await shellPid();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        host.run(`sleep 0.2; echo $PPID; echo out${i}; echo err${i} >&2; exit ${i}`, { ignoreStatus: true }),
      ),
    );
    results.forEach((result, i) => {
      expect(result.stdout.split('\n').slice(1)).toEqual([`out${i}`, '']);
      expect(result.stderr).toBe(`err${i}\n`);
      expect(result.exitStatus).toBe(i);
    });
    const parents = results.map((result) => result.stdout.split('\n')[0]);
    expect(parents.filter((parent) => parent === shell)).toHaveLength(1);
  });

  it('takes an exec channel for stdin', async () => {
    const shell = await shellPid();
    const result = await host.run('cat; echo $PPID', { stdin: 'from stdin\n' });
    const [line, parent] = result.stdout.split('\n');
    expect(line).toBe('from stdin');
    expect(parent).not.toBe(shell);
  });

  it('reopens the shell after it was killed, reporting the command it ran as unreachable', async () => {
    const first = await shellPid();
    const connects = host.connectCount;
    const error = await host.run('kill -9 $PPID; sleep 30', { timeout: 60 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_HOST_UNREACHABLE' });
    const second = await shellPid();
    expect(second).not.toBe(first);
    expect(await cmdline(second)).toMatch(new RegExp(`^${driver}`));
    // Only the shell ended: the connection stayed, and the old shell's readers were killed with its session.
    expect(host.connectCount).toBe(connects);
    expect(await poll(async () => (await sessionMembers(device.namespace, first)).length === 0)).toBe(true);
  });

  it('gives the shell up when a process that left the session keeps the output open after a timeout', async () => {
    const first = await shellPid();
    const marker = `sleep 6${Math.floor(Math.random() * 1e6)}`;
    const error = await host
      .run(`setsid ${marker} & echo started; sleep 60`, { timeout: 1 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_HOST_TIMEOUT', stdout: 'started\n' });
    await expect(host.run('echo next')).resolves.toMatchObject({ stdout: 'next\n' });
    expect(await shellPid()).not.toBe(first);
    expect(await poll(async () => (await sessionMembers(device.namespace, first)).length === 0)).toBe(true);
    // As on an exec channel, the process that left the session on purpose survives.
    const survivors = await deviceProcesses(device.namespace, marker);
    expect(survivors).toHaveLength(1);
    process.kill(survivors[0]!, 'SIGKILL');
  });

  it('reconnects after the connection dropped', async () => {
    await shellPid();
    const before = host.connectCount;
    // The shell's parent is the connection's sshd process.
    const error = await host
      .run("kill -9 $(awk '/^PPid:/ { print $2 }' /proc/$PPID/status); sleep 30", { timeout: 60 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_HOST_UNREACHABLE' });
    await expect(host.run('echo back')).resolves.toMatchObject({ stdout: 'back\n' });
    expect(host.connectCount).toBe(before + 1);
    const parents = new Set([await shellPid(), await shellPid()]);
    expect(parents.size).toBe(1);
  });
});
