// Gives a test file its own virtual lab (server, devices with sshd, internet) under a unique name, and always
// removes it afterwards. Use inside `describe.skipIf(!isRoot)`: building namespaces needs root.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lab, type LabStatus } from '../../server/lab/lab.js';
import { listLabNamespaces, namespacePids } from '../../server/lab/lab-network.js';
import { system } from '../../server/lab/system-command.js';

export interface UseLabOptions {
  /** @default 1 */
  devices?: number;
  /** Server namespaces, each the gateway of its share of the devices. @default 1 */
  servers?: number;
}

export type LabHandle = (() => LabStatus) & { lab(): Lab };

/** A short unique lab name: `at`, the pid and random letters (namespace and link names are limited to 15 characters). */
export function uniqueLabName(): string {
  const pid = (process.pid % 1296).toString(36).padStart(2, '0');
  const random = (randomBytes(2).readUInt16BE(0) % 46656).toString(36).padStart(3, '0');
  return `at${pid}${random}`;
}

/** Registers beforeAll (lab up) and afterAll (lab down); call the returned function inside tests for the status. */
export function useLab(options: UseLabOptions = {}): LabHandle {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await Lab.up({ name: uniqueLabName(), devices: options.devices ?? 1, servers: options.servers ?? 1 });
  }, 120_000);
  afterAll(async () => {
    await lab?.down();
  }, 120_000);
  const current = (): Lab => {
    if (!lab)
      throw new Error(
        'the lab is not up: call the useLab() getter inside a test or hook, not while collecting',
      );
    return lab;
  };
  return Object.assign(() => current().status(), { lab: current });
}

/**
 * Takes the lab's internet away, as a lab without internet access: kills every process in the internet namespace
 * (its DNS and sites) and deletes the namespace, so its links and addresses are gone. `lab down` still works after.
 */
export async function deleteInternet(status: LabStatus): Promise<void> {
  const namespace = status.internet.namespace;
  let pids = await namespacePids(namespace);
  for (let round = 0; pids.length > 0 && round < 50; round++) {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await sleep(100);
    pids = await namespacePids(namespace);
  }
  if (pids.length) throw new Error(`processes ${pids.join(' ')} in ${namespace} survived SIGKILL`);
  await system('ip', ['netns', 'del', namespace]);
  if ((await listLabNamespaces(namespace)).includes(namespace))
    throw new Error(`namespace ${namespace} is still there after ip netns del`);
}
