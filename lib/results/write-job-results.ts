/**
 * At the end of a job: read status.log back and write results.json and junit.xml from it, so the three
 * always agree, and tools that read any of them see the same outcome. A job that broke (its control file,
 * a host, an interruption) is never read as green: its top-level status is ERROR or ABORT and junit.xml
 * carries an error test case naming the reason.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs-atomic.js';
import { readKeyvals } from '../keyval.js';
import { isPassing, worstStatus, type TestStatus } from '../status.js';
import { renderJUnit, type JUnitSuite } from './junit-xml.js';
import { readRecallTotals, type RecallTotals } from './iteration-keyvals.js';
import { orderResults } from './result-order.js';
import { readStatusTimes } from './status-times.js';
import { collectTestResults, type TestResult } from './test-results.js';

export interface JobInfo {
  name: string;
  resultsDir: string;
  /** Seconds since the epoch, as status.log and the keyval have them. */
  started: number;
  finished: number;
  /** Milliseconds since the epoch, from the job's clock. */
  startedMs: number;
  finishedMs: number;
  durationMs: number;
  exitCode: number;
  machines: string[];
  interrupted: boolean;
  /** Why the job broke, when it did. */
  error?: string;
  /** How the job was started (`autoserv -m … control.ts`), for the report. */
  commandLine?: string[];
  /** The control file that ran. */
  control?: string;
}

export interface JobTestResult extends TestResult {
  machine?: string;
  /** When it started and how long it ran, from the job's clock (status.log has whole seconds only). */
  startedMs: number;
  durationMs: number;
  /** Iteration keyvals (`results/keyval`), keys with their `{perf}`/`{attr}` type. */
  keyvals: Record<string, string | number>;
  /** The test's own keyval (`version`, `param-…`). */
  testKeyvals: Record<string, string | number>;
  /** Recall's hits, misses and DNS misses summed over the playback iterations, for Recall tests. */
  recall?: RecallTotals;
}

export interface JobSummary {
  job: JobInfo;
  /** The worst status of the tests; ERROR when the job broke, ABORT when it was interrupted. */
  status: TestStatus;
  passed: boolean;
  tests: JobTestResult[];
}

export type JobRunInfo = Omit<JobInfo, 'resultsDir' | 'exitCode' | 'durationMs'>;

/** Which machine a test ran for: the first folder of its subdir when that folder is a machine's. */
function machineOf(test: TestResult, machines: readonly string[]): string | undefined {
  const first = test.subdir?.split('/')[0] ?? test.name;
  // parallelSimple names a machine's folder after it, with characters other than [\w.@-] as `_`.
  const found = machines.find((m) => m === first || m.replace(/[^\w.@-]/g, '_') === first);
  return found ?? (machines.length === 1 ? machines[0] : undefined);
}

const readOptional = (path: string) => readKeyvals(path, { stripTypes: false }).catch(() => ({}));

export async function collectJobSummary(resultsDir: string, job: JobRunInfo, exitCodeFor: (passed: boolean) => number): Promise<JobSummary> {
  const text = await readFile(join(resultsDir, 'status.log'), 'utf8').catch(() => '');
  const outcome = collectTestResults(text);
  const times = await readStatusTimes(resultsDir);
  const tests = await Promise.all(
    outcome.tests.map(async (test): Promise<JobTestResult> => {
      const machine = machineOf(test, job.machines);
      const ms = times.take(test.subdir, test.name);
      const durationMs = ms ? Math.max(0, ms.end - ms.start) : Math.max(0, test.finished - test.started) * 1000;
      const recall = test.subdir ? await readRecallTotals(join(resultsDir, test.subdir, 'results', 'keyval')) : undefined;
      return {
        ...test,
        ...(machine ? { machine } : {}),
        startedMs: ms?.start ?? test.started * 1000,
        durationMs,
        keyvals: test.subdir ? await readOptional(join(resultsDir, test.subdir, 'results', 'keyval')) : {},
        testKeyvals: test.subdir ? await readOptional(join(resultsDir, test.subdir, 'keyval')) : {},
        ...(recall ? { recall } : {}),
      };
    }),
  );
  const broke: TestStatus | undefined = job.interrupted ? 'ABORT' : job.error !== undefined ? 'ERROR' : undefined;
  const status = broke ? worstStatus(outcome.status, broke) : outcome.status;
  const passed = tests.every((t) => isPassing(t.status)) && isPassing(status) && broke === undefined;
  return {
    job: { ...job, resultsDir, durationMs: Math.max(0, job.finishedMs - job.startedMs), exitCode: exitCodeFor(passed) },
    status,
    passed,
    tests: orderResults(tests),
  };
}

export async function writeJobResults(resultsDir: string, job: JobRunInfo, exitCodeFor: (passed: boolean) => number): Promise<JobSummary> {
  const summary = await collectJobSummary(resultsDir, job, exitCodeFor);
  const suites = new Map<string, JobTestResult[]>();
  for (const test of summary.tests) {
    const suite = test.machine ?? job.name;
    suites.set(suite, [...(suites.get(suite) ?? []), test]);
  }
  const junitSuites: JUnitSuite[] = [...suites].map(([name, list]) => ({ name, tests: list }));
  await writeFileAtomic(join(resultsDir, 'results.json'), JSON.stringify(summary, null, 2) + '\n');
  await writeFileAtomic(join(resultsDir, 'junit.xml'), renderJUnit(summary, junitSuites));
  return summary;
}
