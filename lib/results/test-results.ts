/**
 * Reads a status.log (ours or a real autotest one) into one result per test, with TKO's rules: a test
 * group's status is the worst status seen inside it, its reason comes from the line that made it worst,
 * a status line outside any test group is a one-line test, and groups left open are closed as ABORT.
 */
import { parseStatusLog, type ParsedStatusLine } from '../status-log.js';
import { worstStatus, type TestStatus } from '../status.js';

export interface TestResult {
  /** The test's (tagged) name. */
  name: string;
  /** Its results folder, relative to the job's. */
  subdir: string | undefined;
  status: TestStatus;
  /** Why it did not pass (empty when GOOD). */
  reason: string;
  /** Seconds since the epoch. */
  started: number;
  finished: number;
  /** Names of the groups and tests it ran inside, outermost first (a client test inside a server test). */
  parents: string[];
}

export interface JobOutcome {
  tests: TestResult[];
  /** The worst status of every test, or GOOD when there were none. */
  status: TestStatus;
  /** True when the log ended with groups still open (a crash or a kill). */
  truncated: boolean;
}

interface OpenGroup {
  line: ParsedStatusLine;
  status: TestStatus;
  reason: string;
  isTest: boolean;
}

function isTestGroup(line: ParsedStatusLine): boolean {
  // Job groups (START ---- ----, SERVER_JOB, CLIENT_JOB) and named groups without a subdir are not tests.
  return line.subdir !== undefined && line.operation !== undefined && !/^(SERVER|CLIENT)_JOB$/.test(line.operation);
}

function worsen(group: OpenGroup, status: TestStatus, reason: string): void {
  const worst = worstStatus(group.status, status);
  if (worst !== group.status || (worst === status && !group.reason && reason)) {
    group.status = worst;
    if (reason) group.reason = reason;
  }
}

export function collectTestResults(text: string): JobOutcome {
  const tests: TestResult[] = [];
  const stack: OpenGroup[] = [];
  const close = (group: OpenGroup, end: ParsedStatusLine | undefined, endStatus: TestStatus) => {
    worsen(group, endStatus, end?.message ?? '');
    const outer = stack[stack.length - 1];
    if (outer && group.status !== 'GOOD') worsen(outer, group.status, group.reason);
    if (!group.isTest) return;
    tests.push({
      name: group.line.operation!,
      subdir: group.line.subdir,
      status: group.status,
      reason: group.status === 'GOOD' ? '' : group.reason,
      started: group.line.timestamp,
      finished: end?.timestamp ?? group.line.timestamp,
      parents: stack.map((g) => g.line.operation ?? '----'),
    });
  };

  for (const line of parseStatusLog(text)) {
    if (line.status === 'START') {
      stack.push({ line, status: 'GOOD', reason: '', isTest: isTestGroup(line) });
    } else if (line.status.startsWith('END ')) {
      const group = stack.pop();
      if (group) close(group, line, line.status.slice(4) as TestStatus);
    } else if (line.status !== 'INFO') {
      const group = stack[stack.length - 1];
      if (group) worsen(group, line.status as TestStatus, line.message);
      else if (line.operation) {
        tests.push({ name: line.operation, subdir: line.subdir, status: line.status as TestStatus, reason: line.status === 'GOOD' ? '' : line.message, started: line.timestamp, finished: line.timestamp, parents: [] });
      }
    }
  }
  const truncated = stack.length > 0;
  while (stack.length > 0) close(stack.pop()!, undefined, 'ABORT');
  tests.sort((a, b) => a.started - b.started);
  const status = tests.reduce<TestStatus>((worst, t) => worstStatus(worst, t.status), 'GOOD');
  return { tests, status, truncated };
}
