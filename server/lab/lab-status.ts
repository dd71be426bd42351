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

/** LAB_NAME, LAB_DEVICES (space-separated addresses), LAB_SSH_KEY, LAB_KNOWN_HOSTS, plus the server address, DNS and CA. */
export function labEnvironment(status: LabStatus): Record<string, string> {
  return {
    LAB_NAME: status.name,
    LAB_DEVICES: status.devices.map((d) => d.address).join(' '),
    LAB_SSH_KEY: status.sshKey,
    LAB_KNOWN_HOSTS: status.knownHosts,
    LAB_SERVER_ADDRESS: status.serverAddress,
    LAB_DNS: status.internet.dnsAddress,
    LAB_PUBLIC_CA: status.publicCaPath,
  };
}

export function serverEtcFolder(plan: LabPlan): string {
  return `/etc/netns/${plan.serverNamespace}`;
}

/** The server namespace resolves through the internet DNS and trusts the lab CA, like a lab server on the web. */
export async function configureServerNamespace(plan: LabPlan, caCertPath: string): Promise<void> {
  const etc = serverEtcFolder(plan);
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
