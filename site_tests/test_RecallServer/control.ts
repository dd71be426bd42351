import { serverControl } from 'autotest';

const OWN_ARGS = new Set(['test', 'archive', 'num_iterations', 'proxy_only', 'strict', 'extra_ca', 'ca_dir', 'allow_local_upstreams']);

export default serverControl({
  name: 'test_RecallServer',
  author: 'autotest maintainers',
  time: 'MEDIUM',
  doc: `Runs a client test on each machine while Recall records or plays back its DNS, HTTP and HTTPS.
  -a 'CLIENT_TEST [ARCHIVE] [num_iterations=N] [proxy_only=1] [strict=1] [extra_ca=PEM] [allow_local_upstreams=1] [other=args for the client test]'
  Without ARCHIVE the first iteration records and the others play back; with ARCHIVE every iteration plays it back.`,
  async run({ job, machines, args, hosts, parallelSimple }) {
    const test = args._[0] ?? args.test;
    const archive = args._[1] ?? args.archive;
    const clientArgs = Object.fromEntries(Object.entries(args).filter(([key]) => key !== '_' && !OWN_ARGS.has(key)));
    await parallelSimple(async (machine) => {
      await using host = await hosts.createHost(machine);
      await job.runTest('test_RecallServer', {
        host,
        test,
        ...(archive ? { archive } : {}),
        ...(args.proxy_only ? { proxy_only: args.proxy_only } : {}),
        ...(args.strict ? { strict: args.strict } : {}),
        ...(args.extra_ca ? { extra_ca: args.extra_ca } : {}),
        ...(args.ca_dir ? { ca_dir: args.ca_dir } : {}),
        ...(args.allow_local_upstreams ? { allow_local_upstreams: args.allow_local_upstreams } : {}),
        clientArgs,
        iterations: Number(args.num_iterations ?? 1),
      });
    }, machines);
  },
});
