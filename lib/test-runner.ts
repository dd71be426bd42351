/**
 * Runs one test object through its lifecycle, with iterations, a timeout and interruption. It throws the
 * error that decides the test's status (see `statusOfError`) and records nothing itself: the job does.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { raceAbort, linkedAbortController } from './abort.js';
import { TestAbort, TestError, reasonOf } from './errors.js';
import type { Logger } from './logging.js';
import type { Test, TestArgs, TestEnvironment } from './test.js';

export interface LifecycleOptions {
  /** How many times runOnce runs. @default 1 */
  iterations?: number;
  /** Stops the test (records ABORT) after this many seconds. @default no limit */
  timeoutSeconds?: number;
  /** How long cleanup may take after the test, in seconds. @default 120 */
  cleanupTimeoutSeconds?: number;
  /** Aborts the test from outside (the job was interrupted). */
  signal?: AbortSignal;
  /** Where `setup` records the version it ran for, so it runs once per version. */
  setupStateDir: string;
  logger: Logger;
}

export type LifecycleEnvironment = Omit<TestEnvironment, 'signal'>;

async function setupOncePerVersion(test: Test, args: TestArgs, stateDir: string, name: string): Promise<void> {
  if (!test.setup) return;
  const stamp = join(stateDir, `${name}.version`);
  const done = await readFile(stamp, 'utf8').catch(() => undefined);
  if (done?.trim() === String(test.version)) return;
  await test.setup(args);
  await mkdir(stateDir, { recursive: true });
  await writeFile(stamp, `${test.version}\n`);
}

async function runBody(test: Test, args: TestArgs, options: LifecycleOptions, baseName: string): Promise<void> {
  await test.initialize?.(args);
  await setupOncePerVersion(test, args, options.setupStateDir, baseName);
  await test.warmup?.(args);
  const iterations = options.iterations ?? 1;
  test.iterations = iterations;
  for (let i = 1; i <= iterations; i++) {
    test.iteration = i;
    options.logger.info({ iteration: i, iterations }, `iteration ${i} of ${iterations}`);
    await test.runOnce(args);
    await test.postprocessIteration?.();
  }
  await test.postprocess?.();
}

/**
 * Runs the lifecycle. Resolves when the test passed; rejects with the error that decides its status.
 * A timeout or an interruption rejects with `TestAbort` after cleanup has run.
 */
export async function runLifecycle(
  test: Test,
  args: TestArgs,
  env: LifecycleEnvironment,
  options: LifecycleOptions,
): Promise<void> {
  const iterations = options.iterations ?? 1;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new TestError(`iterations must be a whole number of at least 1, got ${JSON.stringify(options.iterations)}`);
  }
  const controller = linkedAbortController(options.signal);
  const timeout = options.timeoutSeconds;
  const timer =
    timeout && timeout > 0
      ? setTimeout(() => controller.abort(new TestAbort(`Test timeout expired after ${timeout}s`)), timeout * 1000)
      : undefined;
  test.attach({ ...env, signal: controller.signal });

  let failure: unknown;
  try {
    await raceAbort(runBody(test, args, options, env.name.split('.')[0]!), controller.signal);
  } catch (error) {
    failure = error;
  } finally {
    clearTimeout(timer);
    controller.dispose();
  }

  if (test.cleanup) {
    // Cleanup gets its own deadline: the test's may already be spent (Tast's "reserve time for cleanup").
    const cleanupSignal = AbortSignal.timeout((options.cleanupTimeoutSeconds ?? 120) * 1000);
    try {
      await raceAbort(test.cleanup(args), cleanupSignal);
    } catch (error) {
      const cleanupError =
        cleanupSignal.aborted && error === cleanupSignal.reason
          ? new TestError(`cleanup did not finish within ${options.cleanupTimeoutSeconds ?? 120}s`)
          : error;
      if (failure === undefined) failure = cleanupError;
      else options.logger.error({ err: cleanupError }, `cleanup failed after the test had failed: ${reasonOf(cleanupError)}`);
    }
  }
  if (failure !== undefined) throw failure;
}
