/**
 * The lab's inventory: a YAML file listing drones and devices (address, SSH user/port/key, labels, gateway
 * drone). It is validated here, the one place it enters, with one-line errors naming file:line.
 *
 *   defaults: { user: root, port: 22, key: /etc/lab/id_ed25519, knownHosts: /etc/lab/known_hosts }
 *   drones: [server1, server2]
 *   devices:
 *     - { name: dut1, address: 198.18.1.2, drone: server1, labels: { board: eve, pool: cq } }
 */
import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { AutotestError } from '../../lib/errors.js';

export class InventoryError extends AutotestError {}

export interface InventoryDevice {
  name: string;
  address: string;
  user: string;
  port: number;
  /** Private key file for this device, if not the drone's default. */
  key?: string;
  drone: string;
  labels: Record<string, string>;
}

export interface Inventory {
  drones: string[];
  devices: InventoryDevice[];
  /** known_hosts file the drones check device host keys against. */
  knownHosts?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const LABEL_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;
const LABEL_VALUE = /^[A-Za-z0-9_.:/+-]{1,128}$/;
const ADDRESS = /^[A-Za-z0-9.:-]{1,253}$/;
const DEVICE_FIELDS = new Set(['name', 'address', 'user', 'port', 'key', 'drone', 'labels']);

/** The machine name autoserv gets for a device: `user@address:port`. */
export function machineName(device: InventoryDevice): string {
  const host = device.address.includes(':') ? `[${device.address}]` : device.address;
  return `${device.user}@${host}:${device.port}`;
}

/** Parses and validates inventory text; `file` only names the source in errors. */
export function parseInventory(text: string, file = 'inventory.yaml'): Inventory {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const at = (node: unknown): string => {
    const range = (node as Node | undefined)?.range;
    return range ? `${file}:${lineCounter.linePos(range[0]).line}` : file;
  };
  const fail = (node: unknown, message: string): never => {
    throw new InventoryError('ERR_INVENTORY', `${at(node)}: ${message}`);
  };
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new InventoryError('ERR_INVENTORY', `${file}:${first.linePos?.[0]?.line ?? 1}: ${first.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) fail(root, 'the inventory must be a mapping with drones: and devices:');
  const defaultsNode = doc.get('defaults', true);
  const defaults = (defaultsNode ? doc.toJS().defaults : {}) as Record<string, unknown>;
  if (defaultsNode && !isMap(defaultsNode)) fail(defaultsNode, 'defaults: must be a mapping (user, port, key, knownHosts)');

  const dronesNode = doc.get('drones', true);
  if (!isSeq(dronesNode) || dronesNode.items.length === 0) fail(dronesNode ?? root, 'drones: must list the drone names, e.g. drones: [server1]');
  const drones: string[] = [];
  for (const item of (dronesNode as { items: unknown[] }).items) {
    const name = (item as { value?: unknown }).value;
    if (typeof name !== 'string' || !NAME.test(name)) fail(item, `drone name ${JSON.stringify(name)} is not a name (letters, digits, . _ -)`);
    if (drones.includes(name as string)) fail(item, `drone ${String(name)} is listed twice`);
    drones.push(name as string);
  }

  const devicesNode = doc.get('devices', true);
  if (!isSeq(devicesNode)) fail(devicesNode ?? root, 'devices: must be a list of devices');
  const devices: InventoryDevice[] = [];
  const seen = new Map<string, string>();
  for (const node of (devicesNode as { items: unknown[] }).items) {
    if (!isMap(node)) fail(node, 'each device must be a mapping with name, address, drone and labels');
    const map = node as import('yaml').YAMLMap;
    const field = (key: string) => map.get(key, true) as Node | undefined;
    for (const pair of map.items) {
      const key = (pair.key as { value?: unknown }).value;
      if (!DEVICE_FIELDS.has(String(key))) fail(pair.key, `unknown device field ${String(key)}: use ${[...DEVICE_FIELDS].join(', ')}`);
    }
    const value = (key: string) => (field(key) as { value?: unknown } | undefined)?.value;
    const name = value('name');
    if (typeof name !== 'string' || !NAME.test(name)) fail(field('name') ?? node, `device name ${JSON.stringify(name)} is not a name (letters, digits, . _ -)`);
    if (seen.has(name as string)) fail(field('name'), `duplicate device ${String(name)} (first at ${seen.get(name as string)})`);
    seen.set(name as string, at(field('name')));
    const address = value('address');
    if (typeof address !== 'string' || !ADDRESS.test(address)) fail(field('address') ?? node, `device ${String(name)}: address ${JSON.stringify(address)} is not a host name or IP address`);
    const drone = value('drone');
    if (typeof drone !== 'string' || !drones.includes(drone)) {
      fail(field('drone') ?? node, `device ${String(name)}: unknown drone ${JSON.stringify(drone)}: use one of drones: ${drones.join(', ')}`);
    }
    const port = value('port') ?? defaults.port ?? 22;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) fail(field('port') ?? node, `device ${String(name)}: port ${JSON.stringify(port)} is not 1..65535`);
    const user = value('user') ?? defaults.user ?? 'root';
    if (typeof user !== 'string' || !/^[a-z_][a-z0-9_-]{0,31}$/i.test(user)) fail(field('user') ?? node, `device ${String(name)}: user ${JSON.stringify(user)} is not a user name`);
    const key = value('key') ?? defaults.key;
    if (key !== undefined && typeof key !== 'string') fail(field('key') ?? node, `device ${String(name)}: key must be a file path`);
    const labelsNode = field('labels');
    const labels: Record<string, string> = {};
    if (labelsNode !== undefined) {
      if (!isMap(labelsNode)) fail(labelsNode, `device ${String(name)}: labels must be a mapping like { board: eve, pool: cq }`);
      for (const pair of (labelsNode as import('yaml').YAMLMap).items) {
        const k = (pair.key as { value?: unknown }).value;
        const v = (pair.value as { value?: unknown } | null)?.value;
        if (typeof k !== 'string' || !LABEL_KEY.test(k)) fail(pair.key, `device ${String(name)}: label name ${JSON.stringify(k)} is not a name`);
        if (!['string', 'number', 'boolean'].includes(typeof v) || !LABEL_VALUE.test(String(v))) {
          fail(pair.value ?? pair.key, `device ${String(name)}: label ${String(k)} has value ${JSON.stringify(v)}: use letters, digits and . _ : / + -`);
        }
        labels[k as string] = String(v);
      }
    }
    devices.push({ name: name as string, address: address as string, user: user as string, port: port as number, ...(key ? { key: key as string } : {}), drone: drone as string, labels });
  }
  const knownHosts = defaults.knownHosts;
  if (knownHosts !== undefined && typeof knownHosts !== 'string') fail(defaultsNode, 'defaults.knownHosts must be a file path');
  return { drones, devices, ...(knownHosts ? { knownHosts: knownHosts as string } : {}) };
}

export async function loadInventory(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InventoryError('ERR_INVENTORY_READ', `cannot read inventory ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseInventory(text, file);
}

/** `board=eve` → ['board', 'eve']; rejects anything else with the word it got. */
export function parseLabel(word: string): [string, string] {
  const match = /^([^=]+)=(.+)$/.exec(word);
  if (!match || !LABEL_KEY.test(match[1]!) || !LABEL_VALUE.test(match[2]!)) {
    throw new InventoryError('ERR_LABEL', `label ${JSON.stringify(word)} is not key=value (e.g. board=eve pool=cq)`);
  }
  return [match[1]!, match[2]!];
}

/** Devices having every label (and, when names are given, one of the names). */
export function matchDevices(inventory: Inventory, labels: readonly string[], names: readonly string[] = []): InventoryDevice[] {
  const wanted = labels.map(parseLabel);
  return inventory.devices.filter(
    (device) => (names.length === 0 || names.includes(device.name)) && wanted.every(([k, v]) => device.labels[k] === v),
  );
}
