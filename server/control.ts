/** `serverControl({...})`: the typed helper a server control file's default export is made with. */
import type { ControlArgs } from '../lib/args.js';
import { defineControl, type ControlFile, type ControlMetadata } from '../lib/control-file.js';
import type { hosts } from './hosts/index.js';
import type { MachineResult, ParallelSimpleOptions } from './parallel-simple.js';
import type { ServerJob } from './server-job.js';

/** What a server control file's `run` receives. */
export interface ServerControlContext {
  readonly job: ServerJob;
  /** The machines given with `-m` (`host`, `user@host:port`). */
  readonly machines: readonly string[];
  /** `-a` arguments: positional words in `_`, `key=value` pairs as properties (strings). */
  readonly args: ControlArgs;
  /** `hosts.createHost(machine)` connects to a machine over SSH. */
  readonly hosts: typeof hosts;
  /** Runs `fn` for every machine at once, each with its own results folder. */
  readonly parallelSimple: <T>(
    fn: (machine: string) => Promise<T> | T,
    machines: readonly string[],
    options?: ParallelSimpleOptions,
  ) => Promise<MachineResult<T>[]>;
}

export type ServerControlFile = ControlFile<ServerControlContext>;

/**
 * @example
 * export default serverControl({
 *   name: 'dummy_PassServer', author: 'you@example.com', time: 'SHORT', doc: 'Always passes.',
 *   async run({ job, machines, hosts, parallelSimple }) {
 *     await parallelSimple(async (machine) => {
 *       await job.runTest('dummy_PassServer', { host: await hosts.createHost(machine) });
 *     }, machines);
 *   },
 * });
 */
export function serverControl(
  definition: ControlMetadata & { run(context: ServerControlContext): Promise<void> | void },
): ServerControlFile {
  return defineControl('server', definition);
}
