// Properties 1 and 6 on real lab devices (network namespaces with sshd): 200 short jobs over 12 devices and 3
// drones never put a device in two jobs at once; a device that stops answering SSH is marked for repair after
// one job fails on it, skipped (that job is retried elsewhere), shown in `atest hosts`, and taken back by
// `atest repair` once it verifies again.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitJobs } from '../../server/scheduler/submit.js';
import type { JobRecord } from '../../server/scheduler/records.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';
import { SchedulerHarness, touchControl } from './harness.js';

const DRONES = ['d1', 'd2', 'd3'];

/** Asserts that the [start, end] intervals of each device never overlap. */
function expectNoOverlap(intervals: { device: string; start: number; end: number; id: string }[]): void {
  const byDevice = new Map<string, typeof intervals>();
  for (const i of intervals) byDevice.set(i.device, [...(byDevice.get(i.device) ?? []), i]);
  for (const [device, list] of byDevice) {
    list.sort((a, b) => a.start - b.start);
    for (let k = 1; k < list.length; k++) {
      expect(list[k]!.start, `${device}: ${list[k - 1]!.id} and ${list[k]!.id} overlap`).toBeGreaterThanOrEqual(list[k - 1]!.end);
    }
  }
}

describe.skipIf(!isRoot)('the scheduler on a lab of 12 devices and 3 drones', () => {
  const lab = useLab({ devices: 12 });
  let harness: SchedulerHarness;
  beforeAll(async () => {
    harness = await SchedulerHarness.start();
    const status = lab();
    const devices = status.devices.map(
      (d, i) => `  - { name: ${d.name}, address: ${d.address}, drone: ${DRONES[i % 3]}, labels: { board: ${i % 2 ? 'eve' : 'kip'}, pool: cq } }`,
    );
    await harness.loadInventory(
      [`defaults: { user: root, key: ${status.sshKey}, knownHosts: ${status.knownHosts} }`, `drones: [${DRONES.join(', ')}]`, 'devices:', ...devices, ''].join('\n'),
    );
    for (const name of DRONES) await harness.startDrone(name, { leaseMs: 5000, maxJobs: 6 });
  }, 120_000);
  afterAll(async () => harness?.close(), 60_000);

  it('never puts a device in two jobs at once: 200 jobs by label, checked from every job\'s own start and end', async () => {
    const targets = [['board=eve'], ['board=kip'], ['pool=cq']];
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const [record] = await submitJobs(harness.client, {
        tests: [touchControl],
        labels: targets[i % 3]!,
        count: i % 10 === 9 ? 2 : 1,
        args: `ssh=1 log=${harness.log} tag=j${i}`,
      });
      ids.push(record!.id);
    }
    const records = await harness.waitEnded(ids, 600_000);
    expect(records.filter((r) => r.status !== 'GOOD').map((r) => `${r.id} ${r.status} ${r.reason}`)).toEqual([]);
    const byAddress = new Map(lab().devices.map((d) => [`root@${d.address}:22`, d.name]));
    const lines = await harness.logLines();
    expect(lines.map((l) => l.tag).sort()).toEqual(ids.map((_, i) => `j${i}`).sort());
    // From the control files' own records (inside autoserv) …
    expectNoOverlap(lines.flatMap((l) => l.machines.map((m) => ({ device: byAddress.get(m)!, start: l.start, end: l.end, id: l.tag }))));
    // … and from the drones' attempt records (from taking the devices to giving them back).
    expectNoOverlap(
      records.flatMap((r: JobRecord) =>
        r.attempts.flatMap((a) => a.machines.map((device) => ({ device, start: Date.parse(a.startedAt), end: Date.parse(a.endedAt!), id: r.id }))),
      ),
    );
    const drones = new Set(records.map((r) => r.drone));
    expect([...drones].sort()).toEqual(DRONES);
  }, 660_000);

  it('marks a device that refuses SSH for repair after one failed job, skips it, and takes it back after atest repair', async () => {
    const dead = lab().devices[1]!; // board=eve
    const iptables = (action: '-I' | '-D') =>
      execFileSync('ip', ['netns', 'exec', dead.namespace, 'iptables', action, 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'REJECT', '--reject-with', 'tcp-reset']);
    iptables('-I');
    try {
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const [record] = await submitJobs(harness.client, { tests: [touchControl], labels: ['board=eve'], args: `ssh=1 ms=300 log=${harness.log} tag=r${i}` });
        ids.push(record!.id);
      }
      const records = await harness.waitEnded(ids, 120_000);
      expect(records.map((r) => r.status)).toEqual(Array(12).fill('GOOD'));
      const onDead = records.flatMap((r) => r.attempts.filter((a) => a.machines.includes(dead.name)));
      expect(onDead.map((a) => [a.status, a.infrastructure])).toEqual([['DEVICE_DEAD', true]]);
      const host = (await harness.client.listHosts()).find((h) => h.name === dead.name)!;
      expect(host.repair?.reason).toMatch(`verify failed on root@${dead.address}:22`);
      const hosts = await harness.atest(['hosts']);
      expect(hosts.stdout).toMatch(new RegExp(`^${dead.name} +${dead.address.replace(/\./g, '\\.')} +d2 +REPAIR .*verify failed`, 'm'));
      const stillDead = await harness.atest(['repair', dead.name]);
      expect(stillDead.code).toBe(1);
      expect(stillDead.stderr).toMatch(`atest: ${dead.name} still needs repair: verify failed`);
    } finally {
      iptables('-D');
    }
    const repaired = await harness.atest(['repair', dead.name]);
    expect([repaired.code, repaired.stdout]).toEqual([0, `${dead.name} verified: it takes jobs again\n`]);
    const [again] = await submitJobs(harness.client, { tests: [touchControl], targets: [dead.name], args: `ssh=1 log=${harness.log} tag=back` });
    const [record] = await harness.waitEnded([again!.id], 60_000);
    expect([record!.status, record!.machines]).toEqual(['GOOD', [dead.name]]);
  }, 300_000);
});
