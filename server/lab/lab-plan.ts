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
 */
import { LabError } from './lab-errors.js';

export const MAX_SLOT = 250;
export const MAX_DEVICES = 200;
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

export function planLab(name: string, slot: number, deviceCount: number): LabPlan {
  checkLabName(name);
  if (!Number.isInteger(slot) || slot < 1 || slot > MAX_SLOT)
    throw new LabError('ERR_LAB_OPTIONS', `slot must be 1..${MAX_SLOT}, got ${slot}`);
  if (!Number.isInteger(deviceCount) || deviceCount < 0 || deviceCount > MAX_DEVICES) {
    throw new LabError(
      'ERR_LAB_OPTIONS',
      `Expected --devices to be an integer from 0 to ${MAX_DEVICES}, got ${deviceCount}`,
    );
  }
  const lan = `198.18.${slot}`;
  const net = `198.19.${slot}`;
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
    devices: Array.from({ length: deviceCount }, (_, index) => ({
      name: `dut${index + 1}`,
      namespace: `${name}-d${index + 1}`,
      address: `${lan}.${index + 2}`,
      hostname: `${name}-dut${index + 1}`,
    })),
  };
}
