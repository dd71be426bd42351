/**
 * Runs a client test on a host from a server job: `job.runTest('dummy_Pass', { host })`, or a server test's
 * `runTestOnHost`. The client's status lines are relayed live into the server's status.log (nested under
 * whatever group is open) and its results folder is fetched into `<results>/<test>/`.
 */
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reasonOf } from '../lib/errors.js';
import type { Job, RunTestArgs } from '../lib/job.js';
import { taggedName } from '../lib/safe-name.js';
import type { TestStatus } from '../lib/status.js';
import { Autotest, type ClientRunResult } from './autotest.js';
import type { SSHHost } from './hosts/index.js';

export interface ClientTestOptions {
  /** Where the test's results folder goes locally. @default the job's current results folder */
  resultsDir?: string;
  /** Prefix for relayed subdirs (the server test's own subdir when nested). */
  subdirPrefix?: string;
  /** Seconds for the whole client run, on top of the test's own timeout. @default test timeout + 300, or none */
  timeout?: number;
  signal?: AbortSignal;
  /** Wraps the runTest call (JavaScript text) in more code; the client API is in scope as `autotest`. */
  wrap?: (runTestCall: string) => string;
}

function isHost(value: unknown): value is SSHHost {
  return typeof value === 'object' && value !== null && typeof (value as SSHHost).run === 'function' && typeof (value as SSHHost).hostname === 'string';
}

/** Splits a host out of the arguments; the rest must travel as JSON to the device. */
export function splitHost(args: RunTestArgs): { host: SSHHost | undefined; rest: Record<string, unknown> } {
  const rest: Record<string, unknown> = {};
  let host: SSHHost | undefined;
  for (const [key, value] of Object.entries(args)) {
    if (key === 'host' && isHost(value)) host = value;
    else if (value !== undefined) rest[key] = value;
  }
  return { host, rest };
}

export async function runClientTest(job: Job, name: string, host: SSHHost, args: Record<string, unknown>, options: ClientTestOptions = {}): Promise<ClientRunResult & { status: TestStatus }> {
  const tagged = taggedName(name, args.tag);
  const targetDir = options.resultsDir ?? job.context.resultsDir;
  const staging = await mkdtemp(join(tmpdir(), `autotest-client-${tagged}-`));
  const call = `await job.runTest(${JSON.stringify(name)}, ${JSON.stringify(args)});`;
  const control = Autotest.controlFile(name, options.wrap ? options.wrap(call) : call);
  const testTimeout = typeof args.timeout === 'number' ? args.timeout : undefined;
  const autotest = new Autotest(host, { logger: job.logger });
  try {
    const result = await autotest.run(control, {
      job,
      resultsDir: staging,
      subdirPrefix: options.subdirPrefix,
      tests: [name],
      tag: tagged,
      timeout: options.timeout ?? (testTimeout ? testTimeout + 300 : undefined),
      signal: options.signal ?? job.signal,
    });
    await mergeClientResults(staging, targetDir, tagged);
    return result;
  } catch (error) {
    job.logger.error({ err: error }, `client test ${tagged} on ${host.hostname} could not run: ${reasonOf(error)}`);
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Moves a fetched client results folder into place: the test's folder, plus the client job's log and status. */
async function mergeClientResults(staging: string, targetDir: string, tagged: string): Promise<void> {
  const testDir = join(targetDir, tagged);
  if (existsSync(join(staging, tagged))) await cp(join(staging, tagged), testDir, { recursive: true, force: true });
  if (existsSync(join(staging, 'status'))) await cp(join(staging, 'status'), join(testDir, 'client.status'));
  if (existsSync(join(staging, 'debug'))) {
    for (const file of await readdir(join(staging, 'debug'))) await cp(join(staging, 'debug', file), join(testDir, 'debug', file));
  }
}
