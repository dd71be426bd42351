/**
 * The job core shared by the server and client jobs: `runTest`, `runGroup` and `record`, writing
 * autotest's status.log and results folders.
 *
 * Where results go depends on the execution context, kept in AsyncLocalStorage: `parallelSimple` runs each
 * machine in its own context (`<results>/<machine>/`), so the `job` a control file captured in a closure
 * still writes to the right machine's folder, as autotest's forked children did.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamEntry } from 'pino';
import { JobError, TestError, reasonOf, statusOfError } from './errors.js';
import { writeKeyval } from './keyval.js';
import { createLogger, openLevelFiles, type Logger } from './logging.js';
import { loadModule } from './module-loader.js';
import { isPassing, type TestStatus } from './status.js';
import type { StatusLogEntry } from './status-log.js';
import { StatusLogWriter } from './status-log-writer.js';
import { findTest, type FoundTest } from './test-finder.js';
import { runLifecycle } from './test-runner.js';
import { printableName, taggedName } from './safe-name.js';
import { isTestClass, type Test, type TestArgs } from './test.js';

/** Arguments of `runTest`: the test's own, plus the reserved ones the job consumes. */
export interface RunTestArgs extends TestArgs {
  /** Appended to the name and results folder: `kernbench` + `tag: 'mine'` → `kernbench.mine`. */
  tag?: string;
  /** How many times runOnce runs. @default 1 */
  iterations?: number;
  /** Seconds before the test is stopped and recorded ABORT. @default no limit */
  timeout?: number;
}

export interface JobContext {
  readonly resultsDir: string;
  readonly status: StatusLogWriter;
  readonly logger: Logger;
  /** The machine this context works for, inside parallelSimple. */
  readonly machine?: string;
}

export interface JobOptions {
  resultsDir: string;
  /** Folders holding tests, searched in order. */
  testsDirs: readonly string[];
  logger: Logger;
  /** The job's level files, shared with each test's logger. */
  logStreams: StreamEntry[];
  /** Aborted when the job is interrupted (Ctrl-C, SIGTERM). */
  signal?: AbortSignal;
  /** Where `setup` stamps are kept. @default `<results>/../.setup` */
  setupStateDir?: string;
  /** The status file's name: `status.log` on the server, `status` on a device (as autotest). */
  statusFileName?: string;
  /** Echoes each status line (autoserv prints them). */
  onStatus?: (entry: StatusLogEntry, indent: number, machine?: string) => void;
}

const now = () => Math.floor(Date.now() / 1000);

export class Job {
  readonly testsDirs: readonly string[];
  readonly signal: AbortSignal;
  readonly #options: JobOptions;
  readonly #root: JobContext;
  readonly #contexts = new AsyncLocalStorage<JobContext>();

  constructor(options: JobOptions) {
    this.#options = options;
    this.testsDirs = options.testsDirs;
    this.signal = options.signal ?? new AbortController().signal;
    const status = new StatusLogWriter(options.resultsDir, { fileName: options.statusFileName });
    if (options.onStatus) status.onEntry(options.onStatus);
    this.#root = { resultsDir: options.resultsDir, status, logger: options.logger };
  }

  /** The context of the code running now (a machine's, inside parallelSimple). */
  get context(): JobContext {
    return this.#contexts.getStore() ?? this.#root;
  }
  get rootContext(): JobContext {
    return this.#root;
  }
  get resultsDir(): string {
    return this.context.resultsDir;
  }
  get logger(): Logger {
    return this.context.logger;
  }

  /** A context writing to its own folder and status.log, for one machine of parallelSimple. */
  createContext(resultsDir: string, machine: string): JobContext {
    const status = new StatusLogWriter(resultsDir, { fileName: this.#options.statusFileName });
    const onStatus = this.#options.onStatus;
    if (onStatus) status.onEntry((entry, indent) => onStatus(entry, indent, machine));
    return { resultsDir, status, logger: this.context.logger.child({ machine }), machine };
  }

  /** Runs `fn` with `context` as the current context. */
  withContext<T>(context: JobContext, fn: () => Promise<T>): Promise<T> {
    return this.#contexts.run(context, fn);
  }

  /** Writes one status line at the current nesting. */
  record(status: StatusLogEntry['status'], subdir: string | undefined, operation: string | undefined, message = '', fields?: Record<string, string>): void {
    this.context.status.write({ status, subdir, operation, message, fields, timestamp: now() });
  }

  /** Runs a test; true when it passed (GOOD, WARN or TEST_NA). */
  async runTest(name: string, args: RunTestArgs = {}): Promise<boolean> {
    return isPassing(await this.runTestDetail(name, args));
  }

  /** Runs a test and returns its status word. Throws only when the job was interrupted. */
  async runTestDetail(name: string, args: RunTestArgs = {}): Promise<TestStatus> {
    this.throwIfInterrupted();
    const { tag, iterations, timeout, ...testArgs } = args;
    let tagged: string;
    try {
      tagged = taggedName(name, tag);
    } catch (error) {
      return this.recordRefusedTest(name, tag, error);
    }
    const context = this.context;
    const outputDir = join(context.resultsDir, tagged);
    const collision = existsSync(outputDir);
    this.record('START', tagged, tagged, '', timeout ? { timeout: String(timeout) } : undefined);

    const files = openLevelFiles(join(outputDir, 'debug'), tagged);
    const logger = createLogger([...files.streams, ...this.#options.logStreams], { test: tagged, ...(context.machine ? { machine: context.machine } : {}) });
    const tmpDir = await mkdtemp(join(tmpdir(), `autotest-${tagged}-`));
    let status: TestStatus = 'GOOD';
    let reason = 'completed successfully';
    try {
      if (collision) throw new TestError(`${tagged} already exists in ${context.resultsDir}; give each run of the same test its own tag`);
      await mkdir(join(outputDir, 'results'), { recursive: true });
      await this.runTestBody(name, tagged, testArgs, { outputDir, logger, tmpDir, iterations, timeout });
    } catch (error) {
      status = statusOfError(error);
      reason = reasonOf(error);
      logger.error({ err: error }, `${tagged} ${status}: ${reason}`);
    } finally {
      files.close();
      await rm(tmpDir, { recursive: true, force: true });
    }
    this.record(status, tagged, tagged, reason);
    this.record(`END ${status}`, tagged, tagged, '');
    this.throwIfInterrupted();
    return status;
  }

  /** Records a test that could not start at all: START, its status, END. */
  protected recordUnstartedTest(tagged: string, status: TestStatus, reason: string): TestStatus {
    this.record('START', tagged, tagged);
    this.record(status, tagged, tagged, reason);
    this.record(`END ${status}`, tagged, tagged, '');
    return status;
  }

  /**
   * Records a test whose name or tag was refused: ERROR with the reason, and no folder (the name is not safe to
   * make one from). The status line shows the name escaped, under no subdir.
   */
  protected recordRefusedTest(name: unknown, tag: unknown, error: unknown): TestStatus {
    const label = printableName(tag === undefined || tag === '' ? name : `${String(name)}.${String(tag)}`);
    this.logger.error({ err: error }, `refused test ${label}: ${reasonOf(error)}`);
    this.record('START', undefined, label);
    this.record('ERROR', undefined, label, reasonOf(error));
    this.record('END ERROR', undefined, label, '');
    this.throwIfInterrupted();
    return 'ERROR';
  }

  /** Finds, loads and runs a test class in-process. The server job overrides this for client tests. */
  protected async runTestBody(
    name: string,
    tagged: string,
    args: TestArgs,
    run: { outputDir: string; logger: Logger; tmpDir: string; iterations?: number | undefined; timeout?: number | undefined },
  ): Promise<void> {
    const found = findTest(name, this.testsDirs);
    const test = await this.instantiateTest(found);
    await writeKeyval(join(run.outputDir, 'keyval'), testKeyvals(test, args));
    run.logger.info({ args: describeArgs(args) }, `running ${tagged}`);
    await runLifecycle(
      test,
      args,
      { name: tagged, outputDir: run.outputDir, bindir: found.dir, tmpDir: run.tmpDir, logger: run.logger, job: this },
      {
        iterations: run.iterations,
        timeoutSeconds: run.timeout,
        signal: this.signal,
        setupStateDir: this.#options.setupStateDir ?? join(this.#root.resultsDir, '..', '.setup'),
        logger: run.logger,
      },
    );
  }

  protected async instantiateTest(found: FoundTest): Promise<Test> {
    if (!found.modulePath) {
      throw new TestError(`test ${found.name} has no ${found.name}.ts in ${found.dir}: a test folder needs its test class`);
    }
    const { exports } = await loadModule(found.modulePath);
    const TestClass = exports[found.name] ?? exports.default;
    if (!isTestClass(TestClass)) {
      throw new TestError(`${found.modulePath} must export a Test subclass named ${found.name} (or as default) with a runOnce method`);
    }
    return new TestClass();
  }

  /**
   * Runs `fn` as a named group (`START ---- tag` … `END status ---- tag`). A test error thrown inside
   * is recorded as the group's status and swallowed (undefined is returned); anything else ends the group
   * with ABORT and is rethrown as a JobError.
   */
  async runGroup<T>(fn: () => Promise<T> | T, options: { tag?: string } = {}): Promise<T | undefined> {
    const name = options.tag ?? (fn.name || 'group');
    this.record('START', undefined, name);
    try {
      const result = await fn();
      this.record('END GOOD', undefined, name);
      return result;
    } catch (error) {
      const status = statusOfError(error);
      if (status !== 'ERROR' || (error as { code?: string }).code === 'ERR_TEST_ERROR') {
        this.record(status, undefined, name, reasonOf(error));
        this.record(`END ${status}`, undefined, name);
        this.throwIfInterrupted();
        return undefined;
      }
      this.record('END ABORT', undefined, name, reasonOf(error));
      throw new JobError('ERR_JOB_GROUP', `group ${name} aborted: ${reasonOf(error)}`, { cause: error });
    }
  }

  /** Throws a JobError when the job was interrupted: no more tests start after Ctrl-C. */
  protected throwIfInterrupted(): void {
    if (this.signal.aborted) {
      throw new JobError('ERR_JOB_INTERRUPTED', `job interrupted: ${reasonOf(this.signal.reason)}`, { cause: this.signal.reason });
    }
  }
}

/** Host objects and other non-plain values appear in keyvals by name. */
function describeArgs(args: TestArgs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(args)) {
    const hostname = (value as { hostname?: unknown } | null)?.hostname;
    out[key] = typeof hostname === 'string' ? hostname : typeof value === 'object' ? JSON.stringify(value) ?? String(value) : String(value);
  }
  return out;
}

function testKeyvals(test: Test, args: TestArgs): Record<string, string | number> {
  const values: Record<string, string | number> = { version: test.version };
  for (const [key, value] of Object.entries(describeArgs(args))) {
    if (/^[-.\w]+$/.test(key)) values[`param-${key}`] = value.replace(/[\r\n]+/g, ' ');
  }
  return values;
}
