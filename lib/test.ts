/**
 * The base class of every test, server or client, with autotest's lifecycle:
 *
 *   initialize → setup (once per version) → warmup → (runOnce → postprocessIteration) × iterations → postprocess
 *   cleanup always runs afterwards, even when something before it threw or the test was stopped.
 *
 * Every method receives the test's arguments (what `job.runTest(name, args)` was given, less the reserved
 * `tag`, `iterations` and `timeout`). Throw `TestFail`, `TestNA`, `TestWarn` or `TestError` to set the status.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeKeyval, renderKeyvals, type Keyvals } from './keyval.js';
import { appendFile } from 'node:fs/promises';
import type { Logger } from './logging.js';

export type TestArgs = Record<string, unknown>;

/** What the job gives a test before `initialize` runs. */
export interface TestEnvironment {
  /** The test's name with its tag (`sleeptest.mine`), also its results subfolder's name. */
  readonly name: string;
  /** The test's results folder: `<job results>/<name>/`. */
  readonly outputDir: string;
  /** The folder the test's code lives in (data files sit beside it). */
  readonly bindir: string;
  /** A private scratch folder, removed after the test. */
  readonly tmpDir: string;
  readonly logger: Logger;
  /** Aborted when the test times out or the job is interrupted; pass it to anything slow. */
  readonly signal: AbortSignal;
  /** The job running the test (server or client job). */
  readonly job: unknown;
}

export abstract class Test<A extends TestArgs = TestArgs> {
  /** Bump to make `setup` run again on machines that ran an older version. */
  version = 1;
  /** The current iteration, from 1; 0 before the first. */
  iteration = 0;
  /** How many iterations this run has. */
  iterations = 1;

  #env: TestEnvironment | undefined;

  /** @internal Called by the job before the lifecycle starts. */
  attach(env: TestEnvironment): void {
    this.#env = env;
  }

  protected get env(): TestEnvironment {
    if (!this.#env) throw new Error('the test is not attached to a job yet: use it from initialize() onwards');
    return this.#env;
  }

  get name(): string {
    return this.env.name;
  }
  get outputDir(): string {
    return this.env.outputDir;
  }
  /** `<outputDir>/results`: iteration and perf keyvals land here. */
  get resultsDir(): string {
    return join(this.env.outputDir, 'results');
  }
  get bindir(): string {
    return this.env.bindir;
  }
  get tmpDir(): string {
    return this.env.tmpDir;
  }
  get logger(): Logger {
    return this.env.logger;
  }
  get signal(): AbortSignal {
    return this.env.signal;
  }
  get job(): unknown {
    return this.env.job;
  }

  /** Compile or prepare once per version of the test on this machine. */
  setup?(args: A): Promise<void> | void;
  initialize?(args: A): Promise<void> | void;
  warmup?(args: A): Promise<void> | void;
  /** One iteration of the test itself. */
  abstract runOnce(args: A): Promise<void> | void;
  postprocessIteration?(): Promise<void> | void;
  postprocess?(): Promise<void> | void;
  /** Always runs, after success, failure, timeout or interruption. */
  cleanup?(args: A): Promise<void> | void;

  /** Appends to the test's own keyval file (`<outputDir>/keyval`). */
  async writeKeyval(values: Keyvals): Promise<void> {
    await writeKeyval(join(this.outputDir, 'keyval'), values);
  }

  /** Appends one iteration's keyvals to `results/keyval`, `{attr}` and `{perf}` tagged, then a blank line. */
  async writeIterationKeyval(attr: Keyvals, perf: Keyvals): Promise<void> {
    await mkdir(this.resultsDir, { recursive: true });
    const text = renderKeyvals(attr, 'attr') + renderKeyvals(perf, 'perf') + '\n';
    await appendFile(join(this.resultsDir, 'keyval'), text);
  }

  /** Performance figures of this iteration (`key{perf}=value`). */
  async writePerfKeyval(perf: Keyvals): Promise<void> {
    await this.writeIterationKeyval({}, perf);
  }

  /** Attributes of this iteration (`key{attr}=value`). */
  async writeAttrKeyval(attr: Keyvals): Promise<void> {
    await this.writeIterationKeyval(attr, {});
  }
}

/** A test class as a job finds it in `site_tests/NAME/NAME.ts`. */
export type TestClass = new () => Test<any>;

export function isTestClass(value: unknown): value is TestClass {
  return typeof value === 'function' && typeof (value as { prototype?: { runOnce?: unknown } }).prototype?.runOnce === 'function';
}
