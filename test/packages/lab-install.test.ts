// Packages installed on real lab devices over SSH: the device fetches from an HTTP repository served in the lab's
// server namespace (after a dead one), the server pushes what no repository has over SFTP, and an unchanged
// reinstall costs one SSH round trip per device.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type SSHHost } from '../../server/hosts/index.js';
import {
  HttpRepository,
  PackageBuilder,
  PackageManager,
  packageRef,
  sourcesFromTree,
  type CommandRunner,
} from '../../lib/packages/index.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';
import { hostileTarball } from './hostile-tarballs.js';
import { populatedRepository } from './package-fixtures.js';

const packager = fileURLToPath(new URL('../../bin/packager.js', import.meta.url));
const fast = { retries: 1, retryDelaySec: 1, connectTimeoutSec: 5 };

/** Starts `packager serve` inside the lab's server namespace, where devices reach it; resolves with its URL. */
async function serveInLab(
  namespace: string,
  address: string,
  dir: string,
): Promise<{ url: string; child: ResultPromise }> {
  const child = execa('ip', [
    'netns',
    'exec',
    namespace,
    process.execPath,
    packager,
    'serve',
    '--dir',
    dir,
    '--host',
    address,
    '--port',
    '0',
  ]);
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /at (http:\/\/\S+)/.exec(chunk.toString());
      if (match) resolve(match[1]!);
    });
    child.catch(reject);
  });
  return { url, child };
}

/** Counts round trips and transfers of a host. */
function counting(host: SSHHost, prefix = ''): CommandRunner & { commands: number; sent: number } {
  const runner = {
    commands: 0,
    sent: 0,
    run: (command: string, options?: Parameters<CommandRunner['run']>[1]) => {
      runner.commands += 1;
      return host.run(prefix + command, options);
    },
    sendFile: (local: string, remote: string) => {
      runner.sent += 1;
      return host.sendFile(local, remote);
    },
  };
  return runner;
}

describe.skipIf(!isRoot)('packages on lab devices', () => {
  const lab = useLab({ devices: 2 });
  const children: ResultPromise[] = [];
  let hosts: SSHHost[] = [];
  let root: string;
  let repo: Awaited<ReturnType<typeof populatedRepository>>;
  let liveUrl: string;
  let deadUrl: string;

  beforeAll(async () => {
    const status = lab();
    root = await mkdtemp(join(tmpdir(), 'pkg-lab-'));
    repo = await populatedRepository(root);
    hosts = await Promise.all(
      status.devices.map((d) =>
        createHost(`root@${d.address}:22`, { sshKey: status.sshKey, knownHostsFile: status.knownHosts }),
      ),
    );
    const live = await serveInLab(status.serverNamespace, status.serverAddress, repo.repoDir);
    children.push(live.child);
    liveUrl = live.url;
    // A repository that was there and is gone: its port now refuses connections.
    const dead = await serveInLab(status.serverNamespace, status.serverAddress, repo.repoDir);
    dead.child.kill();
    await dead.child.catch(() => undefined); // killed on purpose
    deadUrl = dead.url;
  });
  afterAll(async () => {
    for (const child of children) child.kill();
    await Promise.all(children.map((c) => c.catch(() => undefined))); // killed on purpose
    await Promise.all(hosts.map((h) => h.close()));
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('installs on every device, then transfers nothing when unchanged', async () => {
    const builder = new PackageBuilder({ cacheDir: join(root, 'build-cache') });
    const refs = [
      packageRef('client'),
      packageRef('test', 'alpha'),
      packageRef('dep', 'tool'),
      packageRef('profiler', 'perf'),
    ];
    const runners = hosts.map((h) => counting(h));
    const install = () =>
      Promise.all(
        runners.map((runner) =>
          new PackageManager({
            runner,
            repositories: [new HttpRepository(deadUrl, fast), new HttpRepository(liveUrl, fast)],
            sources: sourcesFromTree(repo.tree),
            builder,
          }).install(refs),
        ),
      );
    const first = await install();
    for (const results of first) {
      expect(results.map((r) => [r.action, r.repository])).toEqual([
        ['installed', liveUrl],
        ['installed', liveUrl],
        ['installed', liveUrl],
        ['installed', 'autoserv://'],
      ]);
    }
    expect(builder.buildCount).toBe(1);
    for (const host of hosts) {
      const { stdout } = await host.run(
        'cat /usr/local/autotest/tests/alpha/alpha.ts /usr/local/autotest/profilers/perf/perf.ts',
      );
      expect(stdout).toBe('export class Alpha {}\nexport const perf = true;\n');
    }
    runners.forEach((r) => Object.assign(r, { commands: 0, sent: 0 }));
    const again = await install();
    expect(again.flat().every((r) => r.action === 'up-to-date')).toBe(true);
    expect(runners.map((r) => [r.commands, r.sent])).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });

  it('refuses a hostile package fetched by the device, and completes an interrupted install on the next run', async () => {
    const host = hosts[0]!;
    await hostileTarball('dotdot', root, repo.repoDir, 'test-evil.tar.bz2', '/tmp/outside');
    await repo.folder.reindex();
    const repositories = [new HttpRepository(liveUrl, fast)];
    const manager = new PackageManager({ runner: counting(host), repositories });
    await expect(manager.install(packageRef('test', 'evil'))).rejects.toMatchObject({
      code: 'ERR_PACKAGE_UNSAFE_PATH',
    });
    expect((await host.run('ls /usr/local/autotest/tests/evil', { ignoreStatus: true })).exitStatus).not.toBe(
      0,
    );

    // On the device, a tar that kills its shell right after untarring.
    await host.run(
      'mkdir -p /tmp/fake-bin && real=$(command -v tar) && ' +
        `printf '#!/bin/sh\\ncase "$*" in *-xjf*) %s "$@"; kill -KILL $PPID;; *) exec %s "$@";; esac\\n' "$real" "$real" > /tmp/fake-bin/tar && ` +
        'chmod +x /tmp/fake-bin/tar',
    );
    const interrupted = new PackageManager({
      runner: counting(host, 'PATH=/tmp/fake-bin:$PATH; export PATH\n'),
      repositories,
    });
    await expect(interrupted.install(packageRef('test', 'beta'))).rejects.toMatchObject({
      code: 'ERR_PACKAGE_INSTALL',
      message: expect.stringContaining('exit status 137'),
    });
    expect(
      (await host.run('test -e /usr/local/autotest/tests/beta/.checksum', { ignoreStatus: true })).exitStatus,
    ).not.toBe(0);
    const completed = await manager.install(packageRef('test', 'beta'));
    expect(completed[0]!.action).toBe('installed');
    expect((await host.run('cat /usr/local/autotest/tests/beta/data/input.txt')).stdout).toBe('beta data\n');
  });
});
