// A device is untrusted: what it lists over SFTP, the links it plants and the pid it prints cannot make the root
// server write outside the results folder, loop, or run a command on the device's behalf.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Autotest } from '../../server/autotest.js';
import { createHost, type SSHHost } from '../../server/hosts/index.js';
import { startHostileSftpServer, type HostileSftpServer } from '../helpers/hostile-sftp-server.js';
import { makeJob } from '../helpers/job.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';

describe('fetching from a hostile SFTP server', () => {
  let server: HostileSftpServer;
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'hostile-sftp-'));
    server = await startHostileSftpServer(work);
  });
  afterAll(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.each(['../../escaped', 'sub/../../escaped', '/etc/cron.d/x', 'nul\0name', 'back\\slash'])('refuses the listed name %j and writes nothing outside', async (name) => {
    server.listing = [name];
    const local = join(work, 'into', randomBytes(4).toString('hex'));
    await using host = await createHost(`root@127.0.0.1:${server.port}`, server.hostOptions);
    await expect(host.getFile('/results/', local)).rejects.toThrow(expect.objectContaining({ message: expect.stringMatching(/ERR_FETCH_UNSAFE_NAME|could write outside the results folder/) }));
    expect(existsSync(join(work, 'escaped'))).toBe(false);
    expect(existsSync(join(work, 'into', 'escaped'))).toBe(false);
  });

  it("fetches well-named files from the same server, and never the listing's '.' or '..'", async () => {
    server.listing = ['.', '..', 'keyval'];
    const local = join(work, 'good');
    await using host = await createHost(`root@127.0.0.1:${server.port}`, server.hostOptions);
    await host.getFile('/results/', local);
    expect(await readdir(local)).toEqual(['keyval']);
    expect(await readFile(join(local, 'keyval'), 'utf8')).toBe(server.content);
  });
});

describe.skipIf(!isRoot)('fetching from a lab device and running on it', () => {
  const lab = useLab({ devices: 1 });
  let host: SSHHost;
  let local: string;
  beforeAll(async () => {
    const status = lab();
    host = await createHost(status.devices[0]!.address, { sshKey: status.sshKey, knownHostsFile: status.knownHosts });
    local = await mkdtemp(join(tmpdir(), 'untrusted-device-'));
  });
  afterAll(async () => {
    await host?.close();
    if (local) await rm(local, { recursive: true, force: true });
  });

  it('never follows links: a link loop and a link to /etc are skipped, the files are fetched', async () => {
    await host.run('rm -rf /tmp/res && mkdir -p /tmp/res/sub && echo hi > /tmp/res/sub/keyval && ln -s .. /tmp/res/sub/loop && ln -s /etc /tmp/res/etc-link && ln -s /etc/shadow /tmp/res/shadow');
    const into = join(local, 'links');
    await host.getFile('/tmp/res/', into);
    expect((await readdir(into)).sort()).toEqual(['sub']);
    expect((await readdir(join(into, 'sub'))).sort()).toEqual(['keyval']);
  });

  it.each([
    ['maxEntries', 'for i in $(seq 1 30); do echo $i > /tmp/bounds/f$i; done', { maxEntries: 10 }],
    ['maxDepth', 'mkdir -p /tmp/bounds/a/b/c/d/e && echo x > /tmp/bounds/a/b/c/d/e/f', { maxDepth: 3 }],
    ['maxBytes', 'head -c 200000 /dev/zero > /tmp/bounds/big', { maxBytes: 100_000 }],
  ])('stops at the %s bound and names it', async (bound, make, limits) => {
    await host.run(`rm -rf /tmp/bounds && mkdir -p /tmp/bounds && ${make}`);
    await expect(host.getFile('/tmp/bounds/', join(local, bound), limits)).rejects.toThrow(new RegExp(`${bound} bound`));
  });

  it("refuses a client results tag that climbs out of the device's results folder before touching the device", async () => {
    // With the old code, autodir/results/<tag> resolved to the victim folder and the device ran rm -rf on it.
    const victim = `/tmp/victim-${randomBytes(4).toString('hex')}`;
    await host.run(`mkdir -p ${victim}/autotest && echo keep > ${victim}/keep`);
    const { job, close } = makeJob();
    try {
      const autotest = new Autotest(host, { autodir: `${victim}/autotest` });
      await expect(autotest.run('export default {}', { job, resultsDir: join(local, 'tag'), tag: 'x/../../..' })).rejects.toThrow(
        expect.objectContaining({ code: 'ERR_UNSAFE_NAME' }),
      );
      expect((await host.run(`cat ${victim}/keep`)).stdout).toBe('keep\n');
    } finally {
      close();
      await host.run(`rm -rf ${victim}`);
    }
  });
});

