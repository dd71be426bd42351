/**
 * What autoserv does with a client control file (autotest's client_wrapper segment): for every machine, at
 * once, connect, install the client and the test through packaging, run the control file on the device and
 * relay its status lines. Results land in `<results>/` (one machine) or `<results>/<machine>/` (several).
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ControlArgs } from '../lib/args.js';
import { formatControlArgs } from '../lib/args.js';
import { Autotest } from './autotest.js';
import { compileForDevice } from './device-build.js';
import type { createHost } from './hosts/index.js';
import type { ServerJob } from './server-job.js';

export async function runClientControlOnMachines(
  job: ServerJob,
  controlPath: string,
  args: ControlArgs,
  connect: typeof createHost,
  options: { timeout?: number } = {},
): Promise<void> {
  const controlJs = await compileForDevice(controlPath);
  // A control file inside a test folder (site_tests/NAME/control.ts) needs that test on the device.
  const folder = dirname(controlPath);
  const testName = basename(folder);
  const tests = existsSync(join(folder, `${testName}.ts`)) ? [testName] : [];
  await job.parallelSimple(async (machine) => {
    await using host = await connect(machine);
    const result = await new Autotest(host, { logger: job.logger }).run(controlJs, {
      job,
      resultsDir: job.context.resultsDir,
      tests,
      args: formatControlArgs(args),
      tag: testName,
      timeout: options.timeout,
      signal: job.signal,
    });
    job.logger.info({ machine, status: result.status, exitCode: result.exitCode }, `client job on ${machine} ended`);
  }, job.machines);
}
