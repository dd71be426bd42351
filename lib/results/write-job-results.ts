/**
 * At the end of a job: read status.log back and write results.json and junit.xml from it, so the three
 * always agree, and tools that read any of them see the same outcome.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs-atomic.js';
import { readKeyvals } from '../keyval.js';
import { isPassing } from '../status.js';
import { renderJUnit, type JUnitSuite } from './junit-xml.js';
import { collectTestResults, type JobOutcome, type TestResult } from './test-results.js';

export interface JobSummary {
  job: { name: string; resultsDir: string; started: number; finished: number; exitCode: number; machines: string[]; interrupted: boolean; error?: string };
  status: JobOutcome['status'];
  passed: boolean;
  tests: (TestResult & { machine?: string; keyvals: Record<string, string | number> })[];
}

/** Which machine a test ran for: the first folder of its subdir when that folder is a machine's. */
function machineOf(test: TestResult, machines: readonly string[]): string | undefined {
  const first = test.subdir?.split('/')[0];
  return first && machines.includes(first) ? first : machines.length === 1 ? machines[0] : undefined;
}

export async function writeJobResults(
  resultsDir: string,
  job: Omit<JobSummary['job'], 'resultsDir' | 'exitCode'>,
  /** The process exit code, given whether every test passed. */
  exitCodeFor: (passed: boolean) => number,
): Promise<JobSummary> {
  const text = await readFile(join(resultsDir, 'status.log'), 'utf8').catch(() => '');
  const outcome = collectTestResults(text);
  const tests = await Promise.all(
    outcome.tests.map(async (test) => {
      const keyvals = test.subdir ? await readKeyvals(join(resultsDir, test.subdir, 'results', 'keyval'), { stripTypes: false }).catch(() => ({})) : {};
      const machine = machineOf(test, job.machines);
      return { ...test, ...(machine ? { machine } : {}), keyvals };
    }),
  );
  const passed = tests.every((t) => isPassing(t.status)) && !job.interrupted && job.error === undefined;
  const summary: JobSummary = { job: { ...job, resultsDir, exitCode: exitCodeFor(passed) }, status: outcome.status, passed, tests };
  const suites = new Map<string, TestResult[]>();
  for (const test of tests) {
    const suite = test.machine ?? job.name;
    suites.set(suite, [...(suites.get(suite) ?? []), test]);
  }
  const junitSuites: JUnitSuite[] = [...suites].map(([name, list]) => ({ name, tests: list }));
  await writeFileAtomic(join(resultsDir, 'results.json'), JSON.stringify(summary, null, 2) + '\n');
  await writeFileAtomic(join(resultsDir, 'junit.xml'), renderJUnit(job.name, junitSuites));
  return summary;
}
