import { serverControl } from 'autotest';

export default serverControl({
  name: 'dummy_PassServer',
  author: 'autotest maintainers',
  time: 'FAST',
  doc: 'A server test that always passes. With machines (-m), it runs a command on each over SSH.',
  async run({ job, machines, hosts, parallelSimple }) {
    if (machines.length === 0) {
      await job.runTest('dummy_PassServer');
      return;
    }
    await parallelSimple(async (machine) => {
      await using host = await hosts.createHost(machine);
      await job.runTest('dummy_PassServer', { host });
    }, machines);
  },
});
