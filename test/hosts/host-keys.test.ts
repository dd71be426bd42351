// Host key checking and login against a real sshd: a changed key is refused with a clear message, an unknown
// key is refused unless accepting new keys was asked for, and a wrong login key or an absent host say so.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost } from '../../server/hosts/index.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';

describe.skipIf(!isRoot)('host keys and login', () => {
  const lab = useLab({ devices: 1 });
  let dir: string;
  let address: string;
  let sshKey: string;

  beforeAll(async () => {
    const status = lab();
    address = status.devices[0]!.address;
    sshKey = status.sshKey;
    dir = await mkdtemp(join(tmpdir(), 'host-keys-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a host whose key differs from known_hosts, naming the file and line', async () => {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'impostor')]);
    const [type, key] = (await readFile(join(dir, 'impostor.pub'), 'utf8')).split(' ');
    const knownHostsFile = join(dir, 'changed');
    await writeFile(knownHostsFile, `# recorded earlier\n${address} ${type} ${key}\n`);
    const error = await createHost(address, { sshKey, knownHostsFile }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_HOST_KEY_MISMATCH',
      hostname: address,
      fingerprint: expect.stringMatching(/^SHA256:/),
    });
    expect((error as Error).message).toContain('HOST KEY MISMATCH');
    expect((error as Error).message).toContain(`${knownHostsFile}:2`);
    expect((error as Error).message).toContain('ssh-keygen -R');
  });

  it('refuses an unknown host by default and remembers it when accepting new keys', async () => {
    const knownHostsFile = join(dir, 'empty');
    await expect(createHost(address, { sshKey, knownHostsFile })).rejects.toMatchObject({
      code: 'ERR_HOST_KEY_UNKNOWN',
      message: expect.stringContaining('acceptNewHostKeys'),
    });
    const first = await createHost(address, { sshKey, knownHostsFile, acceptNewHostKeys: true });
    await first.close();
    expect(await readFile(knownHostsFile, 'utf8')).toMatch(
      new RegExp(`^${address.replace(/\./g, '\\.')} ssh-ed25519 `),
    );
    // Now known: no need to accept anything.
    await using second = await createHost(address, { sshKey, knownHostsFile });
    expect((await second.run('echo ok')).stdout).toBe('ok\n');
  });

  it('checks the lab known_hosts file it was given', async () => {
    await using host = await createHost(`root@${address}:22`, { sshKey, knownHostsFile: lab().knownHosts });
    expect(host.hostname).toBe(address);
  });

  it('reports a key the host does not accept', async () => {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
    await expect(
      createHost(address, { sshKey: join(dir, 'stranger'), knownHostsFile: lab().knownHosts }),
    ).rejects.toMatchObject({
      code: 'ERR_HOST_AUTH',
      message: expect.stringContaining(join(dir, 'stranger')),
    });
    await expect(createHost(address, { sshKey: join(dir, 'no-such-key') })).rejects.toMatchObject({
      code: 'ERR_HOST_SSH_KEY',
    });
  });

  it('reports a host nobody answers for as unreachable', async () => {
    const absent = address.replace(/\.\d+$/, '.250');
    await expect(
      createHost(absent, { sshKey, knownHostsFile: lab().knownHosts, connectTimeoutSec: 5 }),
    ).rejects.toMatchObject({
      code: 'ERR_HOST_UNREACHABLE',
      message: expect.stringContaining(absent),
    });
  });
});
