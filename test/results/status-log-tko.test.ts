// Status logs in the shapes autotest writes (written for these tests from the format autotest documents),
// read with the rules of autotest's TKO parser (tko/parsers/version_1).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INDENT_REASON, TRUNCATED_REASON, collectTestResults } from '../../lib/results/test-results.js';
import { parseStatusLine, renderStatusLine } from '../../lib/status-log.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/status/${name}.status.log`, import.meta.url), 'utf8');
const summary = (text: string) => collectTestResults(text).tests.map((t) => [t.name, t.status, t.reason]);

/** TKO's parse_line: after the three fixed columns, fields while they match key=value, the rest is the reason. */
function tkoParse(line: string): { fields: Record<string, string>; reason: string } {
  const parts = line.replace(/\n$/, '').replace(/^\t*/, '').split('\t');
  const fields: Record<string, string> = {};
  let index = 3;
  for (let kv; index < parts.length && (kv = /^(\w+)=(.*)$/.exec(parts[index]!)); index++) fields[kv[1]!] = kv[2]!;
  return { fields, reason: parts.slice(index).join('\t') };
}

describe('reading status.log as TKO does', () => {
  it('a server job: a reboot is test boot.0, INFO lines are not tests, client sections nest, TEST_NA from the END line', () => {
    const outcome = collectTestResults(fixture('autotest-server-reboot'));
    expect(outcome.tests.map((t) => [t.name, t.status, t.reason])).toEqual([
      ['boot.0', 'GOOD', ''],
      ['platform_Boot', 'GOOD', ''],
      ['dummy_Pass', 'GOOD', ''],
      ['network_Wifi', 'WARN', 'weak signal: -82 dBm'],
      ['hardware_Tpm', 'TEST_NA', 'no TPM on this board'],
    ]);
    expect(outcome).toMatchObject({ status: 'WARN', truncated: false });
  });

  it('an aborted job: the test the client died in, the job-level ABORT line, and the job status', () => {
    const outcome = collectTestResults(fixture('autotest-aborted'));
    expect(outcome.tests.map((t) => [t.name, t.status, t.reason])).toEqual([
      ['kernbench', 'GOOD', ''],
      ['stress', 'ABORT', 'Autotest client terminated unexpectedly: DUT rebooted during the test run'],
      ['autotest-client', 'ABORT', 'client job ended abnormally'],
    ]);
    expect(outcome.status).toBe('ABORT');
  });

  it('a log that stops mid-test (SIGKILL) closes what is open as ABORT, saying why', () => {
    const cut = fixture('autotest-aborted').split('\n').slice(0, 5).join('\n');
    const outcome = collectTestResults(cut);
    expect(outcome.truncated).toBe(true);
    expect(summary(cut)).toEqual([
      ['kernbench', 'GOOD', ''],
      ['stress', 'ABORT', TRUNCATED_REASON],
    ]);
  });

  it('keeps lines with ---- as name or subdir, knows BUG, reads a line without message column as no reason, ignores a stray END', () => {
    const outcome = collectTestResults(fixture('autotest-odd-lines'));
    expect(outcome.tests.map((t) => [t.name, t.status, t.reason])).toEqual([
      ['autoupdate', 'FAIL', 'update engine never reached idle'],
      ['sysinfo_collect', 'GOOD', ''],
      ['security_Bug', 'BUG', 'known bug b/1234'],
      ['power_Idle', 'WARN', ''],
      // autotest wrote the reason `rc=1` raw: TKO reads it as a field, and so do we.
      ['platform_Rc', 'FAIL', ''],
      ['login_Owner', 'FAIL', 'owner key missing'],
    ]);
    // A top-level FAIL never vanishes: the job is not GOOD.
    expect(outcome).toMatchObject({ status: 'FAIL', truncated: false });
  });

  it('a group whose END line is missing is closed as ABORT by the next line one level up, and nothing is counted twice', () => {
    const outcome = collectTestResults(fixture('autotest-missing-end'));
    expect(outcome.tests.map((t) => [t.name, t.status, t.reason, t.parent])).toEqual([
      ['inner', 'ABORT', INDENT_REASON, 'suite_Outer'],
      ['suite_Outer', 'ABORT', INDENT_REASON, undefined],
      ['after_Outer', 'GOOD', '', undefined],
    ]);
    expect(outcome.truncated).toBe(false);
  });
});

describe('status lines as TKO reads them', () => {
  it('fields are the key=value columns up to the first other one; empty values are values', () => {
    const lines = fixture('autotest-odd-lines').split('\n');
    const start = parseStatusLine(lines.find((l) => l.startsWith('\tSTART\tpower_Idle'))!)!;
    expect(start).toMatchObject({ fields: { kernel: '' }, message: '', timestamp: 1700000205 });
    const noMessage = parseStatusLine(lines.find((l) => l.startsWith('\t\tWARN\tpower_Idle'))!)!;
    expect(noMessage).toMatchObject({ status: 'WARN', message: '', timestamp: 1700000206 });
    const raw = parseStatusLine(lines.find((l) => l.includes('\trc=1'))!)!;
    expect(raw).toMatchObject({ fields: { rc: '1' }, message: '' });
    expect(parseStatusLine('\tGOOD\t----\tautoupdate\ttimestamp=5\tdone')).toMatchObject({ subdir: undefined, operation: 'autoupdate', message: 'done' });
  });

  it.each(['rc=1', 'exit_status=255 from the command', ' rc=1 with a leading space', 'a=b=c'])('writes the reason %j so TKO and our parser both keep it', (reason) => {
    const text = renderStatusLine({ status: 'FAIL', subdir: 't', operation: 't', timestamp: 7, message: reason }, 1);
    const tko = tkoParse(text);
    expect(tko.reason.trim()).toBe(reason.trim());
    expect(Object.keys(tko.fields).sort()).toEqual(['localtime', 'timestamp']);
    expect(parseStatusLine(text)!.message).toBe(reason);
  });

  it('refuses a field name TKO could not read back', () => {
    expect(() => renderStatusLine({ status: 'INFO', timestamp: 1, message: '', fields: { 'warnings.enable': 'x' } }, 0)).toThrow(/field names are word characters/);
  });
});
