/**
 * JUnit XML from the same results as results.json, so CI systems show what status.log says. FAIL becomes
 * <failure>, ERROR and ABORT become <error>, TEST_NA becomes <skipped>; WARN passes with a note.
 */
import type { TestResult } from './test-results.js';

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
  tests: TestResult[];
}

function testCase(suite: string, test: TestResult): string {
  const seconds = Math.max(0, test.finished - test.started);
  const open = `    <testcase classname="${escapeXml(suite)}" name="${escapeXml(test.name)}" time="${seconds}"`;
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

export function renderJUnit(jobName: string, suites: JUnitSuite[]): string {
  const count = (tests: TestResult[], pick: (t: TestResult) => boolean) => tests.filter(pick).length;
  const isError = (t: TestResult) => !['GOOD', 'WARN', 'TEST_NA', 'FAIL'].includes(t.status);
  const all = suites.flatMap((s) => s.tests);
  const seconds = (tests: TestResult[]) => tests.reduce((sum, t) => sum + Math.max(0, t.finished - t.started), 0);
  const body = suites.map((suite) => {
    const attrs = `name="${escapeXml(suite.name)}" tests="${suite.tests.length}" failures="${count(suite.tests, (t) => t.status === 'FAIL')}" errors="${count(suite.tests, isError)}" skipped="${count(suite.tests, (t) => t.status === 'TEST_NA')}" time="${seconds(suite.tests)}"`;
    return `  <testsuite ${attrs}>\n${suite.tests.map((t) => testCase(suite.name, t)).join('\n')}\n  </testsuite>`;
  });
  const attrs = `name="${escapeXml(jobName)}" tests="${all.length}" failures="${count(all, (t) => t.status === 'FAIL')}" errors="${count(all, isError)}" skipped="${count(all, (t) => t.status === 'TEST_NA')}" time="${seconds(all)}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ${attrs}>\n${body.join('\n')}\n</testsuites>\n`;
}
