/**
 * JUnit XML from the same results as results.json, so CI systems show what status.log says. FAIL becomes
 * <failure>, ERROR and ABORT become <error>, TEST_NA becomes <skipped>; WARN passes with a note. Times are
 * seconds with milliseconds, from the job's clock.
 */
import type { JobSummary, JobTestResult } from './write-job-results.js';

// XML 1.0 cannot carry most control characters, even escaped.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export interface JUnitSuite {
  /** The machine, or the job's name for a job without machines. */
  name: string;
  tests: JobTestResult[];
}

/** Seconds with millisecond precision, as JUnit's `time` attributes are read. */
const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

function testCase(suite: string, test: Pick<JobTestResult, 'name' | 'status' | 'reason' | 'durationMs'>): string {
  const open = `    <testcase classname="${escapeXml(suite)}" name="${escapeXml(test.name)}" time="${seconds(test.durationMs)}"`;
  const reason = escapeXml(test.reason);
  switch (test.status) {
    case 'GOOD':
      return `${open}/>`;
    case 'WARN':
      return `${open}>\n      <system-out>WARN: ${reason}</system-out>\n    </testcase>`;
    case 'TEST_NA':
      return `${open}>\n      <skipped message="${reason}"/>\n    </testcase>`;
    case 'FAIL':
      return `${open}>\n      <failure type="FAIL" message="${reason}">${reason}</failure>\n    </testcase>`;
    default:
      return `${open}>\n      <error type="${test.status}" message="${reason}">${reason}</error>\n    </testcase>`;
  }
}

type Case = Pick<JobTestResult, 'name' | 'status' | 'reason' | 'durationMs' | 'parent'>;

function suiteAttributes(name: string, cases: readonly Case[], ms: number): string {
  const count = (pick: (t: Case) => boolean) => cases.filter(pick).length;
  const isError = (t: Case) => !['GOOD', 'WARN', 'TEST_NA', 'FAIL'].includes(t.status);
  return `name="${escapeXml(name)}" tests="${cases.length}" failures="${count((t) => t.status === 'FAIL')}" errors="${count(isError)}" skipped="${count((t) => t.status === 'TEST_NA')}" time="${seconds(ms)}"`;
}

/**
 * One <testsuite> per machine. A suite's time is what its top-level tests took (a parent's time already holds
 * its iterations'); the whole file's time is the job's. A job that broke gets an error test case `job`
 * naming why, so CI never reads it as green.
 */
export function renderJUnit(summary: JobSummary, suites: JUnitSuite[]): string {
  const jobName = summary.job.name;
  const breakage: Case | undefined =
    summary.job.interrupted || summary.job.error !== undefined
      ? { name: 'job', status: summary.job.interrupted ? 'ABORT' : 'ERROR', reason: summary.job.error ?? 'the job was interrupted', durationMs: summary.job.durationMs }
      : undefined;
  const body = suites.map((suite) => {
    const ms = suite.tests.filter((t) => t.parent === undefined).reduce((sum, t) => sum + t.durationMs, 0);
    return `  <testsuite ${suiteAttributes(suite.name, suite.tests, ms)}>\n${suite.tests.map((t) => testCase(suite.name, t)).join('\n')}\n  </testsuite>`;
  });
  if (breakage) body.push(`  <testsuite ${suiteAttributes(jobName, [breakage], breakage.durationMs)}>\n${testCase(jobName, breakage)}\n  </testsuite>`);
  const all: Case[] = [...suites.flatMap((s) => s.tests), ...(breakage ? [breakage] : [])];
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ${suiteAttributes(jobName, all, summary.job.durationMs)}>\n${body.join('\n')}\n</testsuites>\n`;
}
