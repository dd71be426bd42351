/**
 * The lab as an inventory for the scheduler (server/scheduler/inventory.ts): one drone per server namespace,
 * named `server1`, `server2`, …, each device's drone being its gateway server, reached with the lab's SSH key.
 */
import { stringify } from 'yaml';
import type { LabStatus } from './lab-status.js';

export function labInventory(status: LabStatus): string {
  const inventory = {
    defaults: { user: 'root', port: 22, key: status.sshKey, knownHosts: status.knownHosts },
    drones: status.servers.map((s) => s.name),
    devices: status.devices.map((d) => ({
      name: d.name,
      address: d.address,
      drone: status.servers[d.server - 1]!.name,
      labels: { board: 'virtual', pool: 'lab', lab: status.name },
    })),
  };
  const header = `# Inventory of lab ${status.name}: run one drone per server, e.g. \`lab run --server 2 -- drone --name server2 …\`\n`;
  return header + stringify(inventory, { collectionStyle: 'block' });
}
