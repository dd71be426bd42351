// Gives a test file its own virtual lab (server, devices with sshd, internet) under a unique name, and always
// removes it afterwards. Use inside `describe.skipIf(!isRoot)`: building namespaces needs root.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { Lab, type LabStatus } from '../../server/lab/lab.js';

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
