import { serverControl } from 'autotest';

/**
 * Records a client test's traffic on every machine at once, then plays it back (-a num_iterations=N), or plays
 * back an archive (-a archive=FILE). One job, one Recall server per machine, each with its own rules.
 *
 *   autoserv -m 198.18.1.2,198.18.1.3 -a 'test=desktopui_UrlFetch num_iterations=3' control/recall_all_machines.ts
 */
export default serverControl({
  name: 'recall_all_machines',
  author: 'autotest maintainers',
  time: 'MEDIUM',
  doc: "Runs test_RecallServer on every machine. Args: test=CLIENT_TEST [archive=FILE] [num_iterations=N] [proxy_only=1] [strict=1]",
  async run({ job, machines, args, hosts, parallelSimple }) {
    await parallelSimple(async (machine) => {
      await using host = await hosts.createHost(machine);
      await job.runTest('test_RecallServer', {
        host,
        test: args.test ?? 'desktopui_UrlFetch',
        ...(args.archive ? { archive: args.archive } : {}),
        ...(args.proxy_only ? { proxy_only: args.proxy_only } : {}),
        ...(args.strict ? { strict: args.strict } : {}),
        ...(args.extra_ca ? { extra_ca: args.extra_ca } : {}),
        iterations: Number(args.num_iterations ?? 1),
      });
    }, machines);
  },
});
