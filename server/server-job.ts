/**
 * The server job: runs server tests in-process, reaches machines through host objects, and runs client
 * tests on a host through the client harness (`job.runTest('dummy_Pass', { host })`).
 */
import { reasonOf } from '../lib/errors.js';
import { Job, type JobOptions, type RunTestArgs } from '../lib/job.js';
import { loadControlFile, type TestType } from '../lib/control-file.js';
import { taggedName } from '../lib/safe-name.js';
import type { TestStatus } from '../lib/status.js';
import { findTest } from '../lib/test-finder.js';
import { needsHost } from './autotest.js';
import { runClientTest, splitHost } from './client-test-runner.js';
import { parallelSimple, type MachineResult, type ParallelSimpleOptions } from './parallel-simple.js';

export interface ServerJobOptions extends JobOptions {
  machines: readonly string[];
}

export class ServerJob extends Job {
  readonly machines: readonly string[];
  readonly #testTypes = new Map<string, Promise<TestType | undefined>>();

  constructor(options: ServerJobOptions) {
    super(options);
    this.machines = options.machines;
  }

  /** See `parallelSimple`: `fn` runs for every machine at once, each in its own results folder. */
  parallelSimple<T>(fn: (machine: string) => Promise<T> | T, machines: readonly string[] = this.machines, options?: ParallelSimpleOptions): Promise<MachineResult<T>[]> {
    return parallelSimple(this, fn, machines, options);
  }

  /** Whether a test is a client or a server test, from its control file (undefined when it has none). */
  testType(name: string): Promise<TestType | undefined> {
    let known = this.#testTypes.get(name);
    if (!known) {
      known = (async () => {
        const found = findTest(name, this.testsDirs);
        return found.controlPath ? (await loadControlFile(found.controlPath)).control.testType : undefined;
      })();
      known.catch(() => this.#testTypes.delete(name));
      this.#testTypes.set(name, known);
    }
    return known;
  }

  override async runTestDetail(name: string, args: RunTestArgs = {}): Promise<TestStatus> {
    const type = await this.testType(name).catch(() => undefined);
    if (type !== 'client') return super.runTestDetail(name, args);
    this.throwIfInterrupted();
    let tagged: string;
    try {
      tagged = taggedName(name, args.tag);
    } catch (error) {
      return this.recordRefusedTest(name, args.tag, error);
    }
    const { host, rest } = splitHost(args);
    if (!host) return this.recordUnstartedTest(tagged, 'ERROR', needsHost(name).message);
    let status: TestStatus;
    try {
      status = (await runClientTest(this, name, host, rest)).status;
    } catch (error) {
      status = this.recordUnstartedTest(tagged, 'ERROR', `could not run ${tagged} on ${host.hostname}: ${reasonOf(error)}`);
    }
    this.throwIfInterrupted();
    return status;
  }
}
