// Property 5: what a user gets wrong is refused at once, in one line, with exit 2 (1 for an unreachable Redis),
// and nothing is queued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInventory } from '../../server/scheduler/inventory.js';
import { runCli } from '../helpers/cli.js';
import { inventoryYaml, SchedulerHarness, touchControl, writeFileIn } from './harness.js';

describe('inventory validation', () => {
  it('names a duplicate device with both lines', () => {
    const yaml = 'drones: [s1]\ndevices:\n  - { name: dut1, address: 198.18.1.2, drone: s1 }\n  - { name: dut1, address: 198.18.1.3, drone: s1 }\n';
    expect(() => parseInventory(yaml, 'lab.yaml')).toThrow('lab.yaml:4: duplicate device dut1 (first at lab.yaml:3)');
  });

  it('names an unknown drone and the drones it knows', () => {
    const yaml = 'drones: [s1, s2]\ndevices:\n  - name: dut1\n    address: 198.18.1.2\n    drone: s3\n';
    expect(() => parseInventory(yaml, 'lab.yaml')).toThrow('lab.yaml:5: device dut1: unknown drone "s3": use one of drones: s1, s2');
  });

  it('refuses a bad field, a bad port and a label that is not a value', () => {
    const base = 'drones: [s1]\ndevices:\n  - { name: dut1, address: 198.18.1.2, drone: s1, ';
    expect(() => parseInventory(`${base}gateway: s1 }\n`, 'f.yaml')).toThrow(/^f\.yaml:3: unknown device field gateway: use name, address/);
    expect(() => parseInventory(`${base}port: 70000 }\n`, 'f.yaml')).toThrow('f.yaml:3: device dut1: port 70000 is not 1..65535');
    expect(() => parseInventory(`${base}labels: { board: [a, b] } }\n`, 'f.yaml')).toThrow(/^f\.yaml:3: device dut1: label board has value/);
  });

  it('atest inventory check exits 2 with the one line', async () => {
    const harness = await SchedulerHarness.start();
    try {
      const file = await writeFileIn(harness.dir, 'lab.yaml', 'drones: [s1]\ndevices:\n  - { name: d, address: 198.18.1.2, drone: nope }\n');
      const result = await runCli('atest', ['inventory', 'check', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`atest: ${file}:3: device d: unknown drone "nope": use one of drones: s1\n`);
    } finally {
      await harness.close();
    }
  });
});

describe('submit-time rejections', () => {
  let harness: SchedulerHarness;
  beforeAll(async () => {
    harness = await SchedulerHarness.start();
    await harness.loadInventory(
      inventoryYaml(['s1', 's2'], [
        { name: 'e1', drone: 's1', labels: { board: 'eve', pool: 'cq' } },
        { name: 'e2', drone: 's2', labels: { board: 'eve', pool: 'cq' } },
      ]),
    );
  });
  afterAll(async () => harness?.close());

  it('refuses labels no device has instead of waiting forever', async () => {
    const result = await harness.atest(['submit', touchControl, 'board=kip', 'pool=cq']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('atest: no device has board=kip pool=cq: see atest hosts for the labels devices have\n');
  });

  it('refuses more devices than the labels match, and a Recall job whose devices have no common gateway', async () => {
    const tooMany = await harness.atest(['submit', touchControl, 'board=eve', '--count', '3']);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toBe('atest: the job needs 3 devices but only 2 have board=eve\n');
    const recall = await harness.atest(['submit', new URL('./fixtures/sched_Recall.ts', import.meta.url).pathname, 'board=eve', '--count', '2']);
    expect(recall.code).toBe(2);
    expect(recall.stderr).toMatch(/^atest: the job runs on its devices' gateway drone, but no drone is the gateway of 2 devices with board=eve\n$/);
  });

  it('refuses a control file that does not compile, naming file and line', async () => {
    const broken = await writeFileIn(
      harness.dir,
      'broken.ts',
      "import { serverControl } from 'autotest';\n\nexport default serverControl({\n  name: 'broken',\n  async run() {\n    const x = ;\n  },\n});\n",
    );
    const result = await harness.atest(['submit', broken, 'board=eve']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.stderr).toContain(`${broken}:6:`);
  });

  it('refuses an unknown device name and a priority out of range', async () => {
    const host = await harness.atest(['submit', touchControl, '--host', 'nope']);
    expect([host.code, host.stderr]).toEqual([2, 'atest: no device named nope in the inventory: see atest hosts\n']);
    const priority = await harness.atest(['submit', touchControl, '--priority', 'highest']);
    expect([priority.code, priority.stderr]).toEqual([2, 'atest: priority highest is not 0..100 or low, medium, high, urgent\n']);
  });

  it('queued nothing for any of them', async () => {
    expect(await harness.client.listJobs()).toEqual([]);
  });

  it('accepts a test by name from site_tests/, as run-remote does', async () => {
    const result = await harness.atest(['submit', 'dummy_PassServer', 'board=eve']);
    expect(result.code).toBe(0);
    const record = await harness.job(result.stdout.trim());
    expect([record.name, record.status, record.control]).toEqual(['dummy_PassServer', 'QUEUED', expect.stringMatching(/site_tests\/dummy_PassServer\/control\.ts$/)]);
  });

  it('says in one line that Redis is unreachable, naming the URL', async () => {
    const url = `unix://${harness.dir}/no-redis.sock`;
    const result = await runCli('atest', ['--redis', url, 'jobs']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^atest: cannot reach Redis at ${url}: .*ENOENT.*\\n$`));
  });
});
