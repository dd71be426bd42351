// A lab with two servers: each server namespace is the gateway of its own devices (their default route, their
// way to the internet), any server reaches every device, `lab run --server N` runs in server N, and the lab's
// inventory names each device's gateway drone. Gateways are proved with iptables counters in each server's own
// namespace: a device's traffic to the internet is counted by its gateway and by no other server.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type SSHHost } from '../../server/hosts/index.js';
import { Lab } from '../../server/lab/lab.js';
import { listLabNamespaces } from '../../server/lab/lab-network.js';
import { parseInventory } from '../../server/scheduler/inventory.js';
import { uniqueLabName } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';

const labCli = fileURLToPath(new URL('../../bin/lab.js', import.meta.url));

describe.skipIf(!isRoot)('a lab with two servers', () => {
  let lab: Lab;
  const hosts = new Map<string, SSHHost>();
  const inNamespace = (namespace: string, ...command: string[]) =>
    execa('ip', ['netns', 'exec', namespace, ...command]);

  beforeAll(async () => {
    lab = await Lab.up({ name: uniqueLabName(), devices: 4, servers: 2 });
    const status = lab.status();
    for (const device of status.devices)
      hosts.set(
        device.name,
        await createHost(device.address, { sshKey: status.sshKey, knownHostsFile: status.knownHosts }),
      );
  }, 180_000);
  afterAll(async () => {
    for (const host of hosts.values()) await host.close();
    await lab?.down();
  }, 120_000);

  it("splits the devices between the servers and says which server is each device's gateway", async () => {
    const status = lab.status();
    expect(status.servers.map((s) => [s.name, s.devices])).toEqual([
      ['server1', ['dut1', 'dut2']],
      ['server2', ['dut3', 'dut4']],
    ]);
    for (const device of status.devices)
      expect(device.gateway).toBe(status.servers[device.server - 1]!.address);
    expect(status.servers[0]!.address).not.toBe(status.servers[1]!.address);
    const { stdout } = await execa(process.execPath, [labCli, 'status', '--name', status.name, '--json']);
    expect(JSON.parse(stdout)).toEqual(status);
    const text = await execa(process.execPath, [labCli, 'status', '--name', status.name]);
    expect(text.stdout).toMatch(
      new RegExp(`dut3 .*gateway server2 \\(${status.servers[1]!.address.replaceAll('.', '\\.')}\\)`),
    );
  });

  it('routes each device through its own server', async () => {
    const status = lab.status();
    for (const device of status.devices) {
      const { stdout } = await inNamespace(device.namespace, 'ip', 'route', 'show', 'default');
      expect(stdout.trim()).toBe(`default via ${device.gateway} dev eth0`);
    }
  });

  it("sends each device's internet traffic through its gateway and through no other server", async () => {
    const status = lab.status();
    // A counting rule per device in each server's own FORWARD chain (the server namespaces are the lab's).
    for (const server of status.servers)
      for (const device of status.devices)
        await inNamespace(
          server.namespace,
          'iptables',
          '-w',
          '-A',
          'FORWARD',
          '-s',
          device.address,
          '-p',
          'tcp',
          '--dport',
          '443',
        );
    for (const device of status.devices) {
      const { stdout } = await hosts
        .get(device.name)!
        .run('curl -sS --fail -o /dev/null -w "%{http_code}" https://static.lab.test/');
      expect(stdout).toBe('200');
    }
    for (const server of status.servers) {
      const { stdout } = await inNamespace(server.namespace, 'iptables', '-w', '-nvxL', 'FORWARD');
      for (const device of status.devices) {
        const line = stdout.split('\n').find((l) => l.includes(` ${device.address} `))!;
        const packets = Number(line.trim().split(/\s+/)[0]);
        if (device.server === server.index)
          expect(packets, `${device.name} on ${server.name}`).toBeGreaterThan(0);
        else expect(packets, `${device.name} on ${server.name}`).toBe(0);
      }
    }
  });

  it("has each device's TCP connection to its gateway address answered in that server's namespace", async () => {
    const status = lab.status();
    // A listener in each server namespace that answers with the server's name and the connection's two ends.
    const script = `const s=require('node:net').createServer(c=>c.end(process.argv[1]+' '+c.localAddress+' '+c.remoteAddress+'\\n'));s.listen(7070,'0.0.0.0',()=>console.log('ready'));setTimeout(()=>s.close(),60000).unref();`;
    // Each listener's output is collected from the start, so a 'ready' printed early is never missed.
    const listeners = status.servers.map((server) => {
      const child = spawn(
        'ip',
        ['netns', 'exec', server.namespace, process.execPath, '-e', script, server.name],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d));
      const ready = async (): Promise<void> => {
        const deadline = Date.now() + 30_000;
        while (!output.includes('ready')) {
          if (child.exitCode !== null || Date.now() > deadline)
            throw new Error(`no listener in ${server.namespace}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const exited = new Promise((resolve) => child.once('exit', resolve));
      return { child, ready, exited };
    });
    const connect = async (namespace: string, address: string): Promise<string> =>
      (
        await inNamespace(
          namespace,
          'timeout',
          '10',
          'bash',
          '-c',
          `exec 3<>/dev/tcp/${address}/7070 && cat <&3`,
        )
      ).stdout.trim();
    try {
      for (const listener of listeners) await listener.ready();
      for (const device of status.devices) {
        expect(await connect(device.namespace, device.gateway)).toBe(
          `server${device.server} ${device.gateway} ${device.address}`,
        );
      }
      // Drones on server 2 reach services on server 1 (its Redis or results server), and back.
      const [one, two] = status.servers;
      expect(await connect(two!.namespace, one!.upstreamAddress)).toBe(
        `server1 ${one!.upstreamAddress} ${two!.upstreamAddress}`,
      );
      expect(await connect(one!.namespace, two!.upstreamAddress)).toBe(
        `server2 ${two!.upstreamAddress} ${one!.upstreamAddress}`,
      );
    } finally {
      for (const listener of listeners) listener.child.kill();
      await Promise.all(listeners.map((listener) => listener.exited));
    }
  });

  it('runs commands in server N with `lab run --server N`, and every server reaches every device', async () => {
    const status = lab.status();
    const run = await execa(process.execPath, [
      labCli,
      'run',
      '--name',
      status.name,
      '--server',
      '2',
      '--',
      'sh',
      '-c',
      'ip -o -4 addr show br0; echo "server=$LAB_SERVER own=$LAB_SERVER_DEVICES"',
    ]);
    expect(run.stdout).toContain(`inet ${status.servers[1]!.address}/25`);
    expect(run.stdout).toContain(
      `server=2 own=${status.devices
        .filter((d) => d.server === 2)
        .map((d) => d.address)
        .join(' ')}`,
    );
    for (const server of [1, 2])
      for (const device of status.devices) {
        const reach = await lab.run(
          ['bash', '-c', `timeout 5 bash -c 'exec 3<>/dev/tcp/${device.address}/22 && head -c 7 <&3'`],
          { server },
        );
        expect(reach.stdout, `server${server} to ${device.name}`).toBe('SSH-2.0');
      }
    await expect(lab.run(['true'], { server: 3 })).rejects.toMatchObject({ code: 'ERR_LAB_OPTIONS' });
  });

  it('prints an inventory the scheduler accepts, with each device on its gateway drone', async () => {
    const status = lab.status();
    const { stdout } = await execa(process.execPath, [labCli, 'inventory', '--name', status.name]);
    const inventory = parseInventory(stdout, 'lab-inventory.yaml');
    expect(inventory.drones).toEqual(['server1', 'server2']);
    expect(inventory.devices.map((d) => [d.name, d.address, d.drone])).toEqual(
      status.devices.map((d) => [d.name, d.address, `server${d.server}`]),
    );
    expect(inventory.devices[0]!.key).toBe(status.sshKey);
  });

  it('removes both servers, their links and every device with lab down', async () => {
    const name = lab.name;
    await lab.down();
    expect(await listLabNamespaces(`${name}-`)).toEqual([]);
    const links = await execa('ip', ['-o', 'link', 'show']);
    expect(links.stdout).not.toContain(`${name}-mgmt`);
  });
});
