import { serverControl } from 'autotest';

export default serverControl({
  name: 'test_MyTest',
  author: 'autotest maintainers',
  time: 'SHORT',
  doc: "The RecallServerTest subclass example: proxies each machine's traffic while a client test runs. Args: test=CLIENT_TEST",
  async run({ job, machines, args, hosts, parallelSimple }) {
    await parallelSimple(async (machine) => {
      await using host = await hosts.createHost(machine);
      await job.runTest('test_MyTest', { host, ...(args.test ? { test: args.test } : {}) });
    }, machines);
  },
});
