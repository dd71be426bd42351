/**
 * What a lab tells its users: its status (namespaces, addresses, SSH key, DNS, sites, CA), the environment
 * `lab run` gives commands, and the server namespace's /etc files (resolver and trust store) that
 * `ip netns exec` binds over /etc for every command run there.
 */
import { appendFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabPlan } from './lab-plan.js';

export interface LabStatus {
  readonly name: string;
  readonly serverNamespace: string;
  /** The server's address as devices see it (their default gateway). */
  readonly serverAddress: string;
  /** The server namespace's address on the management link from the root namespace. */
  readonly managementAddress: string;
  readonly devices: readonly {
    readonly name: string;
    readonly namespace: string;
    readonly address: string;
    readonly hostname: string;
    /** 1-based index of the device's gateway server (in `servers`). */
    readonly server: number;
    /** Its gateway's address. */
    readonly gateway: string;
  }[];
  /** Every server namespace, server 1 first; a drone runs in each (`lab run --server N`). */
  readonly servers: readonly {
    readonly index: number;
    /** `server1`, …: the drone name `lab inventory` gives it. */
    readonly name: string;
    readonly namespace: string;
    /** The gateway address of its devices. */
    readonly address: string;
    readonly deviceSubnet: string;
    /** Its address on its management link (reachable from the root namespace). */
    readonly managementAddress: string;
    /** Its address toward the internet namespace (reachable from every other server). */
    readonly upstreamAddress: string;
    /** Names of the devices it is the gateway of. */
    readonly devices: readonly string[];
  }[];
  /** Private key that logs in as root on every device. */
  readonly sshKey: string;
  /** known_hosts file holding every device's host key. */
  readonly knownHosts: string;
  readonly internet: {
    readonly namespace: string;
    readonly dnsAddress: string;
    readonly sites: readonly string[];
  };
  /** PEM certificate of the lab's public CA, which signed the origin sites. */
  readonly publicCaPath: string;
}

export function labStatus(plan: LabPlan, dir: string): LabStatus {
  return {
    name: plan.name,
    serverNamespace: plan.serverNamespace,
    serverAddress: plan.serverAddress,
    managementAddress: plan.managementAddress,
    devices: plan.devices.map((d) => ({
      name: d.name,
      namespace: d.namespace,
      address: d.address,
      hostname: d.hostname,
      server: d.server,
      gateway: d.gateway,
    })),
    servers: plan.servers.map((s) => ({
      index: s.index,
      name: s.name,
      namespace: s.namespace,
      address: s.address,
      deviceSubnet: s.deviceSubnet,
      managementAddress: s.managementAddress,
      upstreamAddress: s.upstreamAddress,
      devices: plan.devices.filter((d) => d.server === s.index).map((d) => d.name),
    })),
    sshKey: join(dir, 'id_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
    internet: {
      namespace: plan.internetNamespace,
      dnsAddress: plan.dnsAddress,
      sites: plan.sites.map((s) => s.name),
    },
    publicCaPath: join(dir, 'ca', 'public-ca.pem'),
  };
}

/**
 * LAB_NAME, LAB_DEVICES (space-separated addresses, every device), LAB_SSH_KEY, LAB_KNOWN_HOSTS, plus the server
 * address, DNS and CA; LAB_SERVER (N) and LAB_SERVER_DEVICES (the devices server N is the gateway of).
 */
export function labEnvironment(status: LabStatus, serverIndex = 1): Record<string, string> {
  const server = status.servers[serverIndex - 1];
  const own = status.devices.filter((d) => d.server === serverIndex);
  return {
    LAB_SERVER: String(serverIndex),
    LAB_SERVER_DEVICES: own.map((d) => d.address).join(' '),
    LAB_NAME: status.name,
    LAB_DEVICES: status.devices.map((d) => d.address).join(' '),
    LAB_SSH_KEY: status.sshKey,
    LAB_KNOWN_HOSTS: status.knownHosts,
    LAB_SERVER_ADDRESS: server?.address ?? status.serverAddress,
    LAB_DNS: status.internet.dnsAddress,
    LAB_PUBLIC_CA: status.publicCaPath,
  };
}

export function serverEtcFolder(namespace: string): string {
  return `/etc/netns/${namespace}`;
}

/** The server namespace resolves through the internet DNS and trusts the lab CA, like a lab server on the web. */
export async function configureServerNamespace(
  plan: LabPlan,
  namespace: string,
  caCertPath: string,
): Promise<void> {
  const etc = serverEtcFolder(namespace);
  await mkdir(etc, { recursive: true });
  await writeFile(
    join(etc, 'resolv.conf'),
    `# lab ${plan.name}: the internet namespace's DNS server\nnameserver ${plan.dnsAddress}\n`,
  );
  await cp('/etc/ssl', join(etc, 'ssl'), { recursive: true, verbatimSymlinks: true });
  const pem = await readFile(caCertPath, 'utf8');
  await writeFile(join(etc, 'ssl/certs/autotest-lab-public-ca.pem'), pem);
  await appendFile(join(etc, 'ssl/certs/ca-certificates.crt'), pem);
}
