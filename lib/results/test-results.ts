/**
 * Reads a status.log (ours or a real autotest one) into one result per test, with the rules of autotest's
 * TKO parser (tko/parsers/version_1): a group's status is the worst status seen inside it and its reason
 * comes from the line that made it worst; a status line outside any test group is a one-line test;
 * indentation is trusted: a line indented less than the open groups expect closes the innermost one as
 * ABORT first, a line indented more is ignored; groups left open at the end are closed as ABORT.
 *
 * Unlike TKO, tests nested in a test (a client test inside a server test) are kept as results of their own,
 * with their parent named; a named group without a subdir (runGroup, reboot) is a result only when nothing
 * inside it is, or when its own lines did not pass, so no failure can vanish.
 */
import { parseStatusLog, type ParsedStatusLine } from '../status-log.js';
import { isPassing, worstStatus, type TestStatus } from '../status.js';

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
  /** The nearest enclosing result's name (the server test around a client test's iterations). */
  parent?: string;
}

export interface JobOutcome {
  tests: TestResult[];
  /** The worst status of every test and of the job's own status lines, or GOOD when there were none. */
  status: TestStatus;
  /** True when the log ended with groups still open (a crash or a kill). */
  truncated: boolean;
}

interface OpenGroup {
  line: ParsedStatusLine;
  name: string | undefined;
  /** Everything inside, rolled up. */
  status: TestStatus;
  reason: string;
  /** Only this group's own status lines and END word. */
  own: TestStatus;
  ownReason: string;
  kind: 'job' | 'test' | 'group';
  /** Results reported from inside it. */
  children: number;
}

const JOB_GROUP = /^(SERVER|CLIENT)_JOB(\.\d+)?$/;
export const TRUNCATED_REASON = 'the status log ends inside this group: the job was killed or crashed';
export const INDENT_REASON = 'a later line closed this group without its END line';

function worsen(target: { status: TestStatus; reason: string }, status: TestStatus, reason: string): void {
  const worst = worstStatus(target.status, status);
  if (worst !== target.status || (worst === status && !target.reason && reason)) {
    target.status = worst;
    if (reason) target.reason = reason;
  }
}

function worsenOwn(group: OpenGroup, status: TestStatus, reason: string): void {
  const own = { status: group.own, reason: group.ownReason };
  worsen(own, status, reason);
  group.own = own.status;
  group.ownReason = own.reason;
  worsen(group, status, reason);
}

export function collectTestResults(text: string): JobOutcome {
  const tests: TestResult[] = [];
  const stack: OpenGroup[] = [];
  const job = { status: 'GOOD' as TestStatus, reason: '' };
  let boots = 0;

  const innermostResult = () => [...stack].reverse().find((g) => g.kind !== 'job' && g.name);
  const report = (result: Omit<TestResult, 'parents' | 'parent'>) => {
    const parent = innermostResult();
    if (parent) parent.children++;
    tests.push({ ...result, parents: stack.map((g) => g.name ?? '----'), ...(parent ? { parent: parent.name! } : {}) });
  };

  const close = (group: OpenGroup, endStatus: TestStatus, endReason: string, finished: number) => {
    worsenOwn(group, endStatus, endReason);
    const outer = stack[stack.length - 1];
    if (outer && group.status !== 'GOOD') worsen(outer, group.status, group.reason);
    if (!outer && group.kind === 'job') worsen(job, group.status, group.reason);
    const status = group.children > 0 && group.kind === 'group' ? group.own : group.status;
    const wanted = group.kind === 'test' || (group.kind === 'group' && (group.children === 0 || !isPassing(group.own)));
    if (!wanted) return;
    report({
      name: group.name!,
      subdir: group.line.subdir,
      status,
      reason: status === 'GOOD' ? '' : group.children > 0 && group.kind === 'group' ? group.ownReason : group.reason,
      started: group.line.timestamp,
      finished: finished || group.line.timestamp,
    });
  };

  const lines = parseStatusLog(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const isEnd = line.status.startsWith('END ');
    const expected = stack.length - (isEnd ? 1 : 0);
    if (line.indent < expected) {
      // TKO: an unexpected drop in indentation aborts the innermost group, then reads the line again.
      const group = stack.pop()!;
      close(group, 'ABORT', INDENT_REASON, line.timestamp);
      i--;
      continue;
    }
    if (line.indent > expected) continue; // TKO ignores lines indented deeper than any open group
    if (line.status === 'START') {
      let name = line.operation ?? line.subdir;
      if (line.operation === 'reboot' && line.subdir === undefined) name = `boot.${boots++}`;
      const kind = name === undefined || JOB_GROUP.test(name) ? 'job' : line.subdir !== undefined ? 'test' : 'group';
      stack.push({ line, name, status: 'NOSTATUS', reason: '', own: 'NOSTATUS', ownReason: '', kind, children: 0 });
    } else if (isEnd) {
      close(stack.pop()!, line.status.slice(4) as TestStatus, line.message, line.timestamp);
    } else if (line.status !== 'INFO') {
      const status = line.status as TestStatus;
      const group = stack[stack.length - 1];
      const name = line.operation ?? line.subdir;
      if (group && group.kind !== 'job') worsenOwn(group, status, line.message);
      else if (name !== undefined) {
        report({ name, subdir: line.subdir, status, reason: status === 'GOOD' ? '' : line.message, started: line.timestamp, finished: line.timestamp });
      } else {
        // A job-level status line (`ABORT ---- ----`): the job's own outcome.
        worsen(group ?? job, status, line.message);
      }
    }
  }
  const truncated = stack.length > 0;
  while (stack.length > 0) close(stack.pop()!, 'ABORT', TRUNCATED_REASON, 0);
  const status = tests.reduce<TestStatus>((worst, t) => worstStatus(worst, t.status), job.status === 'NOSTATUS' ? 'GOOD' : job.status);
  return { tests, status: status === 'NOSTATUS' ? 'GOOD' : status, truncated };
}
