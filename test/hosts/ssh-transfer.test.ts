// sendFile/getFile over SFTP against a real sshd: files, folders, several sources, modes kept both ways.
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type SSHHost } from '../../server/hosts/index.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o7777;

describe.skipIf(!isRoot)('SSHHost file transfers', () => {
  const lab = useLab({ devices: 1 });
  let host: SSHHost;
  let local: string;

  beforeAll(async () => {
    const status = lab();
    host = await createHost(status.devices[0]!.address, {
      sshKey: status.sshKey,
      knownHostsFile: status.knownHosts,
    });
    local = await mkdtemp(join(tmpdir(), 'ssh-transfer-'));
    // A tree with distinct modes: an executable, a private file, a nested folder with its own mode.
    await mkdir(join(local, 'tree/nested'), { recursive: true });
    await writeFile(join(local, 'tree/run.sh'), '#!/bin/sh\necho hi\n');
    await chmod(join(local, 'tree/run.sh'), 0o755);
    await writeFile(join(local, 'tree/secret'), 'private\n');
    await chmod(join(local, 'tree/secret'), 0o600);
    await writeFile(join(local, 'tree/nested/data.bin'), Buffer.alloc(300_000, 7));
    await chmod(join(local, 'tree/nested'), 0o750);
  });
  afterAll(async () => {
    await host?.close();
    if (local) await rm(local, { recursive: true, force: true });
  });

  it('sends a folder into an existing remote folder, keeping modes', async () => {
    await host.run('rm -rf /tmp/in && mkdir /tmp/in');
    await host.sendFile(join(local, 'tree'), '/tmp/in');
    const { stdout } = await host.run(
      'cd /tmp/in/tree && stat -c "%n %a" run.sh secret nested nested/data.bin && ./run.sh && wc -c < nested/data.bin',
    );
    expect(stdout).toBe('run.sh 755\nsecret 600\nnested 750\nnested/data.bin 644\nhi\n300000\n');
  });

  it("sends a single file to a new name and a folder's contents with a trailing slash", async () => {
    await host.sendFile(join(local, 'tree/secret'), '/tmp/renamed');
    await host.sendFile(`${join(local, 'tree')}/`, '/tmp/contents');
    const { stdout } = await host.run('stat -c "%a" /tmp/renamed; cat /tmp/renamed; ls /tmp/contents');
    expect(stdout).toBe('600\nprivate\nnested\nrun.sh\nsecret\n');
  });

  it('sends several sources into one folder, and refuses when the destination is not a folder', async () => {
    await host.run('rm -rf /tmp/many && mkdir /tmp/many');
    await host.sendFile([join(local, 'tree/run.sh'), join(local, 'tree/secret')], '/tmp/many');
    expect((await host.run('ls /tmp/many')).stdout).toBe('run.sh\nsecret\n');
    await expect(
      host.sendFile([join(local, 'tree/run.sh'), join(local, 'tree/secret')], '/tmp/missing-folder'),
    ).rejects.toMatchObject({
      code: 'ERR_HOST_TRANSFER',
      message: expect.stringContaining('/tmp/missing-folder'),
    });
  });

  it('gets a folder back with its contents and modes', async () => {
    await host.run(
      'rm -rf /tmp/out && mkdir -p /tmp/out/sub && echo remote > /tmp/out/sub/file && chmod 640 /tmp/out/sub/file && chmod 710 /tmp/out/sub',
    );
    const into = join(local, 'fetched');
    await mkdir(into);
    await host.getFile('/tmp/out', into);
    expect(await readFile(join(into, 'out/sub/file'), 'utf8')).toBe('remote\n');
    expect(await mode(join(into, 'out/sub/file'))).toBe(0o640);
    expect(await mode(join(into, 'out/sub'))).toBe(0o710);
  });

  it('round-trips a file byte for byte', async () => {
    await host.sendFile(join(local, 'tree/nested/data.bin'), '/tmp/data.bin');
    await host.getFile('/tmp/data.bin', join(local, 'back.bin'));
    expect(
      (await readFile(join(local, 'back.bin'))).equals(await readFile(join(local, 'tree/nested/data.bin'))),
    ).toBe(true);
  });

  it('reports a missing remote file as a transfer error naming the host', async () => {
    await expect(host.getFile('/tmp/does-not-exist', join(local, 'x'))).rejects.toMatchObject({
      code: 'ERR_HOST_TRANSFER',
      message: expect.stringMatching(/198\.18\.\d+\.2.*does-not-exist/),
    });
  });
});
