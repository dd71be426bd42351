// What a lab contains: devices with sshd behind the server namespace, private device files, and an internet
// whose DNS and origin sites answer real clients (dig, curl) with certificates from the lab's public CA.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type SSHHost } from '../../server/hosts/index.js';
import { Lab } from '../../server/lab/lab.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';

const labCli = fileURLToPath(new URL('../../bin/lab.js', import.meta.url));

describe.skipIf(!isRoot)('a lab with two devices', () => {
  const lab = useLab({ devices: 2 });
  const hosts: SSHHost[] = [];
  /** Runs a shell command in the server namespace and returns its stdout; fails the test on a non-zero exit. */
  const onServer = async (script: string): Promise<string> => {
    const result = await lab.lab().run(['sh', '-c', script]);
    expect(result.stderr + (result.exitCode === 0 ? '' : ` (exit ${result.exitCode})`)).not.toMatch(
      /exit \d+\)$/,
    );
    return result.stdout;
  };

  beforeAll(async () => {
    const status = lab();
    for (const device of status.devices)
      hosts.push(
        await createHost(device.address, { sshKey: status.sshKey, knownHostsFile: status.knownHosts }),
      );
  });
  afterAll(async () => {
    for (const host of hosts) await host.close();
  });

  it('reports its status as the CLI prints it for scripts', async () => {
    const status = lab();
    const { stdout } = await execa(process.execPath, [labCli, 'status', '--name', status.name, '--json']);
    expect(JSON.parse(stdout)).toEqual(status);
    expect(status.devices.map((d) => d.name)).toEqual(['dut1', 'dut2']);
    expect(status.internet.sites).toContain('shared-a.lab.test');
    expect(await readFile(status.publicCaPath, 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('refuses a second lab of the same name and leaves the first alone', async () => {
    await expect(Lab.up({ name: lab().name })).rejects.toMatchObject({
      code: 'ERR_LAB_EXISTS',
      message: expect.stringContaining(`lab down --name ${lab().name}`),
    });
    expect((await hosts[0]!.run('echo alive')).stdout).toBe('alive\n');
  });

  it('gives each device its own host name, resolver, home and install folder, routed through the server', async () => {
    const status = lab();
    for (const [index, host] of hosts.entries()) {
      const device = status.devices[index]!;
      const { stdout } = await host.run(
        'hostname; cat /etc/resolv.conf; ip route show default; test -d /usr/local/autotest && echo install-folder; echo $HOME',
      );
      expect(stdout).toContain(`${device.hostname}\n`);
      expect(stdout).toContain(`nameserver ${status.internet.dnsAddress}`);
      expect(stdout).toContain(`default via ${status.serverAddress}`);
      expect(stdout).toContain('install-folder\n/root\n');
    }
  });

  it('keeps what a device changes away from the real machine', async () => {
    const realResolv = await readFile('/etc/resolv.conf', 'utf8');
    const host = hosts[0]!;
    const savedResolv = (await host.run('cat /etc/resolv.conf')).stdout;
    const savedHostname = (await host.run('hostname')).stdout.trim();
    await host.run(
      'echo "nameserver 198.18.0.99" > /etc/resolv.conf; touch /root/device-was-here /usr/local/autotest/x /usr/local/bin/device-tool; hostname changed',
    );
    expect(await readFile('/etc/resolv.conf', 'utf8')).toBe(realResolv);
    await host.run(`cat > /etc/resolv.conf; hostname ${savedHostname}`, { stdin: savedResolv });
    for (const path of ['/root/device-was-here', '/usr/local/autotest', '/usr/local/bin/device-tool']) {
      await expect(readFile(path)).rejects.toMatchObject({ code: expect.stringMatching(/ENOENT|EISDIR/) });
    }
    expect((await execa('hostname')).stdout).not.toBe('changed');
    // The other device is untouched too.
    expect((await hosts[1]!.run('test -e /root/device-was-here || echo absent')).stdout).toBe('absent\n');
  });

  it('trusts the lab public CA on devices and resolves the sites through the internet DNS', async () => {
    const { stdout } = await hosts[0]!.run(
      'curl -sS https://static.lab.test/ && getent hosts shared-a.lab.test shared-b.lab.test',
    );
    expect(stdout).toContain('<h1 id="title">Static site</h1>');
    const addresses = stdout
      .trim()
      .split('\n')
      .slice(-2)
      .map((line) => line.split(/\s+/)[0]);
    expect(addresses[0]).toBe(addresses[1]);
  });

  it('serves DNS over UDP and TCP, authoritative for the lab zone only', async () => {
    const dns = lab().internet.dnsAddress;
    expect(await onServer(`dig +short @${dns} api.lab.test; dig +tcp +short @${dns} api.lab.test`)).toMatch(
      /^(198\.19\.\d+\.\d+)\n\1\n$/,
    );
    expect(
      await onServer(
        `dig @${dns} nope.lab.test | grep -o 'status: [A-Z]*'; dig @${dns} example.com | grep -o 'status: [A-Z]*'`,
      ),
    ).toBe('status: NXDOMAIN\nstatus: REFUSED\n');
    expect(await onServer(`dig @${dns} static.lab.test | grep -o 'flags: [a-z ]*'`)).toContain(' aa');
  });

  it('serves the origin sites Recall must handle', async () => {
    const curl = 'curl -sS --fail';
    expect(await onServer(`${curl} https://static.lab.test/style.css`)).toContain('font-family');
    expect(await onServer(`${curl} https://dynamic.lab.test/clock.js`)).toMatch(
      /Date\.now\(\)[\s\S]*Math\.random\(\)/,
    );
    expect(
      await onServer(
        `${curl} -L -o /dev/null -w '%{http_code} %{num_redirects} %{url_effective}' https://redirect.lab.test/`,
      ),
    ).toBe('200 1 https://redirect.lab.test/final');
    expect(
      await onServer(
        `${curl} -o /dev/null -w '%{http_code} %{redirect_url}' http://redirect.lab.test/elsewhere`,
      ),
    ).toBe('302 http://static.lab.test/');
    expect(await onServer(`${curl} --compressed -D - https://encoding.lab.test/gzip`)).toMatch(
      /content-encoding: gzip[\s\S]*line 199:/i,
    );
    expect(await onServer(`${curl} -D - http://encoding.lab.test/chunked`)).toMatch(
      /transfer-encoding: chunked[\s\S]*line 199:/i,
    );
    const posted = JSON.parse(
      await onServer(
        `${curl} -X POST -H 'content-type: application/json' --data '{"q":"lab"}' https://api.lab.test/items`,
      ),
    );
    expect(posted).toMatchObject({
      method: 'POST',
      body: { q: 'lab' },
      id: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
    expect(
      await onServer(
        `${curl} -D - -o /tmp/large-$$ https://download.lab.test/large.bin | grep -i x-content-sha256 | tr -d '\\r' | cut -d' ' -f2; sha256sum < /tmp/large-$$ | cut -d' ' -f1; rm /tmp/large-$$`,
      ),
    ).toMatch(/^([0-9a-f]{64})\n\1\n$/);
    expect(
      await onServer(
        `${curl} -c /tmp/jar-$$ https://cookies.lab.test/set >/dev/null && ${curl} -b /tmp/jar-$$ https://cookies.lab.test/; rm /tmp/jar-$$`,
      ),
    ).toContain('"session":"lab-session-1"');
    expect(await onServer(`${curl} https://shared-a.lab.test/; ${curl} https://shared-b.lab.test/`)).toMatch(
      /shared-a\.lab\.test[\s\S]*shared-b\.lab\.test/,
    );
  });

  it('runs commands in the server namespace with the lab environment and no route off the machine', async () => {
    const status = lab();
    const env = await onServer('echo "$LAB_NAME|$LAB_DEVICES|$LAB_SSH_KEY|$LAB_KNOWN_HOSTS"');
    expect(env.trim()).toBe(
      `${status.name}|${status.devices.map((d) => d.address).join(' ')}|${status.sshKey}|${status.knownHosts}`,
    );
    // Ask the routing table instead of sending packets: nothing may leave the machine.
    const route = await lab.lab().run(['ip', 'route', 'get', '192.0.2.1']);
    expect(route.exitCode).not.toBe(0);
    expect(route.stderr).toMatch(/unreachable/i);
    expect(await onServer('ip route show default')).toBe('');
    expect(await onServer('sysctl -n net.ipv4.ip_forward')).toBe('1\n');
    // The CLI passes the command's exit status through.
    const cli = await execa(
      process.execPath,
      [labCli, 'run', '--name', status.name, '--', 'sh', '-c', 'echo "$LAB_NAME"; exit 7'],
      { reject: false },
    );
    expect(cli).toMatchObject({ exitCode: 7, stdout: status.name });
  });
});
