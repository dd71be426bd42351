/**
 * The lab's namespaces and links (see lab-plan.ts for the addresses). The server namespace is the devices'
 * gateway and forwards between them and the internet namespace; no namespace has a route out of the machine.
 */
import type { LabPlan } from './lab-plan.js';
import { inNamespace, ip, system } from './system-command.js';

/** True when the root namespace already routes a slot's device subnet (another lab, or a stale one). */
export async function subnetInUse(plan: Pick<LabPlan, 'deviceSubnet'>): Promise<boolean> {
  return (await ip(undefined, '-4', 'route', 'show', plan.deviceSubnet)).trim() !== '';
}

/** Every namespace of the plan, server first. */
export function namespacesOf(plan: LabPlan): string[] {
  return [plan.serverNamespace, plan.internetNamespace, ...plan.devices.map((d) => d.namespace)];
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

export async function buildServer(plan: LabPlan): Promise<void> {
  const srv = plan.serverNamespace;
  // Forwarding is per namespace: this touches the server namespace only, never the machine's own setting.
  await inNamespace(srv, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  await ip(srv, 'link', 'add', 'br0', 'type', 'bridge');
  await ip(srv, 'addr', 'add', `${plan.serverAddress}/24`, 'dev', 'br0');
  await ip(srv, 'link', 'set', 'br0', 'up');

  // Management link: the only change in the root namespace, and a route for the device subnet alone.
  await ip(
    undefined,
    'link',
    'add',
    plan.managementLink,
    'type',
    'veth',
    'peer',
    'name',
    'mgmt0',
    'netns',
    srv,
  );
  await ip(undefined, 'addr', 'add', `${plan.rootAddress}/30`, 'dev', plan.managementLink);
  await ip(undefined, 'link', 'set', plan.managementLink, 'up');
  await ip(srv, 'addr', 'add', `${plan.managementAddress}/30`, 'dev', 'mgmt0');
  await ip(srv, 'link', 'set', 'mgmt0', 'up');
  await ip(
    undefined,
    'route',
    'add',
    plan.deviceSubnet,
    'via',
    plan.managementAddress,
    'dev',
    plan.managementLink,
  );
}

export async function buildInternet(plan: LabPlan): Promise<void> {
  const srv = plan.serverNamespace;
  const net = plan.internetNamespace;
  await ip(
    undefined,
    'link',
    'add',
    'up0',
    'netns',
    srv,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    net,
  );
  await ip(srv, 'addr', 'add', `${plan.internetServerSide}/25`, 'dev', 'up0');
  await ip(srv, 'link', 'set', 'up0', 'up');
  const addresses = new Set([plan.dnsAddress, ...plan.sites.map((s) => s.address)]);
  for (const address of addresses) await ip(net, 'addr', 'add', `${address}/25`, 'dev', 'eth0');
  await ip(net, 'link', 'set', 'eth0', 'up');
  // Routes back to the lab only: replies to devices and to the management link go through the server.
  await ip(net, 'route', 'add', plan.deviceSubnet, 'via', plan.internetServerSide);
  await ip(
    net,
    'route',
    'add',
    `${plan.rootAddress.replace(/\.\d+$/, '.252')}/30`,
    'via',
    plan.internetServerSide,
  );
}

export async function buildDevice(plan: LabPlan, index: number): Promise<void> {
  const device = plan.devices[index];
  if (!device) return;
  const port = `d${index + 1}`;
  await ip(
    undefined,
    'link',
    'add',
    port,
    'netns',
    plan.serverNamespace,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    device.namespace,
  );
  await ip(plan.serverNamespace, 'link', 'set', port, 'master', 'br0');
  await ip(plan.serverNamespace, 'link', 'set', port, 'up');
  await ip(device.namespace, 'addr', 'add', `${device.address}/24`, 'dev', 'eth0');
  await ip(device.namespace, 'link', 'set', 'eth0', 'up');
  await ip(device.namespace, 'route', 'add', 'default', 'via', plan.serverAddress);
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
