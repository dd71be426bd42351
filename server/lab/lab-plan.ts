/**
 * Names and addresses of one lab, computed from its name, its slot and its device count, so that `lab down`
 * can find everything again from the name alone, even when the state file was never written.
 *
 * Slot K (1..250) owns, inside 198.18.0.0/15:
 *   198.18.K.0/24     the device LAN: the server namespace is .1 (the devices' gateway), device i is .(i+1)
 *   198.19.K.0/25     the "internet" link: server side .1, the DNS server .2, origin sites from .10
 *   198.19.K.252/30   the management link: root namespace .253, server namespace .254
 * The root namespace routes only 198.18.K.0/24 through the management link, so a test process can reach
 * the devices directly and nothing else changes on the machine.
 *
 * With S servers (`lab up --servers S`, S ≤ 4) the device LAN is split into S equal blocks, one per server, each
 * server the gateway of its own devices (devices are split in order: the first ones on server 1). Server 1 keeps
 * the addresses above (its block starts at .0, gateway .1); server s ≥ 2 has namespace `<name>-srv<s>`, gateway
 * the first address of its block, its own management link `<name>-mgmt<s>` (198.19.K.(252-4(s-1))/30) and its
 * own link to the internet namespace (198.19.K.(128+8(s-2))/29: server .1, internet .2). Servers reach each
 * other's devices through the internet namespace, so any drone reaches any device; each device's traffic to the
 * internet goes through its own server.
 */
import { LabError } from './lab-errors.js';

export const MAX_SLOT = 250;
export const MAX_DEVICES = 200;
export const MAX_SERVERS = 4;
export const SITE_ZONE = 'lab.test';

/** Origin sites of the internet namespace; the last two share one address. */
export const SITE_NAMES = [
  'static',
  'dynamic',
  'redirect',
  'encoding',
  'api',
  'download',
  'cookies',
  'ticker',
  'h2',
  'grpc',
  'shared-a',
  'shared-b',
] as const;
export type SiteName = (typeof SITE_NAMES)[number];

export interface DevicePlan {
  /** `dut1`, `dut2`, … also the device's host name. */
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly hostname: string;
  /** 1-based index of the server that is this device's gateway. */
  readonly server: number;
  /** That server's address on the device LAN (the device's default gateway). */
  readonly gateway: string;
}

export interface ServerPlan {
  /** 1, 2, … */
  readonly index: number;
  /** `server1`, `server2`, …: also the drone name a lab inventory gives it. */
  readonly name: string;
  readonly namespace: string;
  /** Its address on its device block: the gateway of its devices. */
  readonly address: string;
  /** Its block of the device LAN, e.g. 198.18.K.128/25. */
  readonly deviceSubnet: string;
  readonly managementLink: string;
  readonly managementAddress: string;
  readonly rootAddress: string;
  /** The management link's /30. */
  readonly managementSubnet: string;
  /** Its address toward the internet namespace. */
  readonly upstreamAddress: string;
  /** The internet namespace's address on that link (its next hop to the internet and to other servers). */
  readonly internetPeer: string;
  /** Interface names on the internet namespace's side of that link. */
  readonly internetInterface: string;
}

export interface LabPlan {
  readonly name: string;
  readonly slot: number;
  readonly serverNamespace: string;
  readonly internetNamespace: string;
  /** The server's address on the device LAN: the devices' default gateway. */
  readonly serverAddress: string;
  /** The server namespace's end of the management link. */
  readonly managementAddress: string;
  /** The root namespace's end of the management link. */
  readonly rootAddress: string;
  /** Root-namespace end of the management link (the only link the lab adds to the root namespace). */
  readonly managementLink: string;
  readonly deviceSubnet: string;
  readonly internetSubnet: string;
  readonly internetServerSide: string;
  readonly dnsAddress: string;
  readonly sites: readonly { readonly name: string; readonly address: string }[];
  readonly devices: readonly DevicePlan[];
  /** Server 1 first; its fields repeat the top-level server fields. */
  readonly servers: readonly ServerPlan[];
}

const NAME_PATTERN = /^[a-z][a-z0-9]{0,7}$/;

/** Lab names become namespace and link names (15 characters at most), so they are short. */
export function checkLabName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new LabError(
      'ERR_LAB_NAME',
      `Lab name "${name}" is not 1 to 8 lower-case letters and digits starting with a letter (e.g. "lab" or "at1234")`,
    );
  }
}

export function namespacePrefix(name: string): string {
  return `${name}-`;
}

export function planLab(name: string, slot: number, deviceCount: number, serverCount = 1): LabPlan {
  checkLabName(name);
  if (!Number.isInteger(slot) || slot < 1 || slot > MAX_SLOT)
    throw new LabError('ERR_LAB_OPTIONS', `slot must be 1..${MAX_SLOT}, got ${slot}`);
  if (!Number.isInteger(deviceCount) || deviceCount < 0 || deviceCount > MAX_DEVICES) {
    throw new LabError(
      'ERR_LAB_OPTIONS',
      `Expected --devices to be an integer from 0 to ${MAX_DEVICES}, got ${deviceCount}`,
    );
  }
  if (!Number.isInteger(serverCount) || serverCount < 1 || serverCount > MAX_SERVERS) {
    throw new LabError(
      'ERR_LAB_OPTIONS',
      `Expected --servers to be an integer from 1 to ${MAX_SERVERS}, got ${serverCount}`,
    );
  }
  const lan = `198.18.${slot}`;
  const net = `198.19.${slot}`;
  // Blocks of 256, 128 or 64 addresses; each loses its network, gateway and broadcast addresses.
  const blockBits = Math.ceil(Math.log2(serverCount));
  const blockSize = 256 >> blockBits;
  const perServer = Math.ceil(deviceCount / serverCount);
  if (serverCount > 1 && perServer > blockSize - 3) {
    throw new LabError(
      'ERR_LAB_OPTIONS',
      `${deviceCount} devices do not fit ${serverCount} servers (at most ${(blockSize - 3) * serverCount}); use fewer devices`,
    );
  }
  const servers: ServerPlan[] = Array.from({ length: serverCount }, (_, i) => {
    const index = i + 1;
    const base = i * blockSize;
    const mgmt = 252 - 4 * i;
    const link = 128 + 8 * (i - 1);
    return {
      index,
      name: `server${index}`,
      namespace: index === 1 ? `${name}-srv` : `${name}-srv${index}`,
      address: `${lan}.${base + 1}`,
      deviceSubnet: `${lan}.${base}/${24 + blockBits}`,
      managementLink: index === 1 ? `${name}-mgmt` : `${name}-mgmt${index}`,
      managementAddress: `${net}.${mgmt + 2}`,
      rootAddress: `${net}.${mgmt + 1}`,
      managementSubnet: `${net}.${mgmt}/30`,
      upstreamAddress: index === 1 ? `${net}.1` : `${net}.${link + 1}`,
      internetPeer: index === 1 ? `${net}.2` : `${net}.${link + 2}`,
      internetInterface: index === 1 ? 'eth0' : `eth${i}`,
    };
  });
  const sharedAddress = `${net}.${10 + SITE_NAMES.length - 2}`;
  return {
    name,
    slot,
    serverNamespace: `${name}-srv`,
    internetNamespace: `${name}-net`,
    serverAddress: `${lan}.1`,
    managementAddress: `${net}.254`,
    rootAddress: `${net}.253`,
    managementLink: `${name}-mgmt`,
    deviceSubnet: `${lan}.0/24`,
    internetSubnet: `${net}.0/25`,
    internetServerSide: `${net}.1`,
    dnsAddress: `${net}.2`,
    sites: SITE_NAMES.map((site, index) => ({
      name: `${site}.${SITE_ZONE}`,
      address: site.startsWith('shared-') ? sharedAddress : `${net}.${10 + index}`,
    })),
    devices: Array.from({ length: deviceCount }, (_, index) => {
      const server = servers[Math.floor(index / perServer)]!;
      return {
        name: `dut${index + 1}`,
        namespace: `${name}-d${index + 1}`,
        address: `${lan}.${(server.index - 1) * blockSize + (index % perServer) + 2}`,
        hostname: `${name}-dut${index + 1}`,
        server: server.index,
        gateway: server.address,
      };
    }),
    servers,
  };
}
