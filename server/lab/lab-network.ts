/**
 * The lab's namespaces and links (see lab-plan.ts for the addresses). The server namespace is the devices'
 * gateway and forwards between them and the internet namespace; no namespace has a route out of the machine.
 */
import type { LabPlan, ServerPlan } from './lab-plan.js';
import { inNamespace, ip, system } from './system-command.js';

/** True when the root namespace already routes a slot's device subnet (another lab, or a stale one). */
export async function subnetInUse(plan: Pick<LabPlan, 'deviceSubnet'>): Promise<boolean> {
  // `root`: any route inside the /24, including the /25 and /26 blocks of a lab with several servers.
  return (await ip(undefined, '-4', 'route', 'show', 'root', plan.deviceSubnet)).trim() !== '';
}

/** Every namespace of the plan, server first. */
export function namespacesOf(plan: LabPlan): string[] {
  return [
    plan.serverNamespace,
    plan.internetNamespace,
    ...plan.servers.slice(1).map((s) => s.namespace),
    ...plan.devices.map((d) => d.namespace),
  ];
}

/** Creates the namespaces; `created` is called after each, so a crash leaves a record of it. */
export async function createNamespaces(
  plan: LabPlan,
  created: (namespace: string) => Promise<void>,
): Promise<void> {
  for (const namespace of namespacesOf(plan)) {
    await ip(undefined, 'netns', 'add', namespace);
    await created(namespace);
    await ip(namespace, 'link', 'set', 'lo', 'up');
  }
}

export async function buildServer(server: ServerPlan): Promise<void> {
  const srv = server.namespace;
  const prefix = server.deviceSubnet.split('/')[1]!;
  // Forwarding is per namespace: this touches the server namespace only, never the machine's own setting.
  await inNamespace(srv, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  await ip(srv, 'link', 'add', 'br0', 'type', 'bridge');
  await ip(srv, 'addr', 'add', `${server.address}/${prefix}`, 'dev', 'br0');
  await ip(srv, 'link', 'set', 'br0', 'up');

  // Management link: the only change in the root namespace, and a route for the device block alone.
  await ip(
    undefined,
    'link',
    'add',
    server.managementLink,
    'type',
    'veth',
    'peer',
    'name',
    'mgmt0',
    'netns',
    srv,
  );
  await ip(undefined, 'addr', 'add', `${server.rootAddress}/30`, 'dev', server.managementLink);
  await ip(undefined, 'link', 'set', server.managementLink, 'up');
  await ip(srv, 'addr', 'add', `${server.managementAddress}/30`, 'dev', 'mgmt0');
  await ip(srv, 'link', 'set', 'mgmt0', 'up');
  await ip(
    undefined,
    'route',
    'add',
    server.deviceSubnet,
    'via',
    server.managementAddress,
    'dev',
    server.managementLink,
  );
}

export async function buildInternet(plan: LabPlan): Promise<void> {
  const net = plan.internetNamespace;
  for (const server of plan.servers) {
    await ip(
      undefined,
      'link',
      'add',
      'up0',
      'netns',
      server.namespace,
      'type',
      'veth',
      'peer',
      'name',
      server.internetInterface,
      'netns',
      net,
    );
    const linkPrefix = server.index === 1 ? 25 : 29;
    await ip(server.namespace, 'addr', 'add', `${server.upstreamAddress}/${linkPrefix}`, 'dev', 'up0');
    await ip(server.namespace, 'link', 'set', 'up0', 'up');
    if (server.index > 1)
      await ip(net, 'addr', 'add', `${server.internetPeer}/29`, 'dev', server.internetInterface);
  }
  const addresses = new Set([plan.dnsAddress, ...plan.sites.map((s) => s.address)]);
  for (const address of addresses) await ip(net, 'addr', 'add', `${address}/25`, 'dev', 'eth0');
  for (const server of plan.servers) await ip(net, 'link', 'set', server.internetInterface, 'up');
  // Routes back to the lab only: replies to devices and to the management links go through their server.
  for (const server of plan.servers) {
    await ip(net, 'route', 'add', server.deviceSubnet, 'via', server.upstreamAddress);
    await ip(net, 'route', 'add', server.managementSubnet, 'via', server.upstreamAddress);
  }
  if (plan.servers.length > 1) await connectServers(plan);
}

/**
 * With several servers, each reaches the internet and the other servers' devices through the internet
 * namespace, which forwards between its links (in its own namespace only).
 */
async function connectServers(plan: LabPlan): Promise<void> {
  await inNamespace(plan.internetNamespace, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  const otherLinks = `${plan.internetServerSide.replace(/\.\d+$/, '.128')}/25`;
  for (const server of plan.servers) {
    if (server.index === 1)
      await ip(server.namespace, 'route', 'add', otherLinks, 'via', server.internetPeer);
    else await ip(server.namespace, 'route', 'add', plan.internetSubnet, 'via', server.internetPeer);
    for (const other of plan.servers) {
      if (other !== server)
        await ip(server.namespace, 'route', 'add', other.deviceSubnet, 'via', server.internetPeer);
    }
  }
}

export async function buildDevice(plan: LabPlan, index: number): Promise<void> {
  const device = plan.devices[index];
  if (!device) return;
  const server = plan.servers[device.server - 1]!;
  const port = `d${index + 1}`;
  await ip(
    undefined,
    'link',
    'add',
    port,
    'netns',
    server.namespace,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    device.namespace,
  );
  await ip(server.namespace, 'link', 'set', port, 'master', 'br0');
  await ip(server.namespace, 'link', 'set', port, 'up');
  await ip(
    device.namespace,
    'addr',
    'add',
    `${device.address}/${server.deviceSubnet.split('/')[1]!}`,
    'dev',
    'eth0',
  );
  await ip(device.namespace, 'link', 'set', 'eth0', 'up');
  await ip(device.namespace, 'route', 'add', 'default', 'via', device.gateway);
}

/** Namespaces whose names start with the lab's prefix (what `lab down` removes even without a state file). */
export async function listLabNamespaces(prefix: string): Promise<string[]> {
  const out = await system('ip', ['netns', 'list'], { allowFailure: true });
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}

/** Process ids of every process in a namespace. */
export async function namespacePids(namespace: string): Promise<number[]> {
  const out = await system('ip', ['netns', 'pids', namespace], { allowFailure: true });
  return out
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}
