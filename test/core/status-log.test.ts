import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseStatusLog, renderStatusLine, type StatusLogEntry } from '../../lib/status-log.js';
import { collectTestResults } from '../../lib/results/test-results.js';

// Shaped like a real client job's status log: job group, fields in both orders, continuation lines.
const sample = readFileSync(new URL('../fixtures/status/autotest-client.status.log', import.meta.url), 'utf8');

describe('status.log grammar', () => {
  it('renders autotest’s exact line: tabs, ---- for none, timestamp then localtime, empty message', () => {
    const line = renderStatusLine({ status: 'START', subdir: undefined, operation: undefined, timestamp: 1700000000, message: '' }, 0);
    expect(line).toMatch(/^START\t----\t----\ttimestamp=1700000000\tlocaltime=[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d\t\n$/);
    const nested = renderStatusLine({ status: 'GOOD', subdir: 'a', operation: 'a', timestamp: 1, message: 'ok', fields: { kernel: '6.1' } }, 2);
    expect(nested.startsWith('\t\tGOOD\ta\ta\ttimestamp=1\tlocaltime=')).toBe(true);
    expect(nested.endsWith('\tkernel=6.1\tok\n')).toBe(true);
  });

  it('keeps only the first line of a message in the line and writes the rest as continuation lines', () => {
    const text = renderStatusLine({ status: 'FAIL', subdir: 't', operation: 't', timestamp: 5, message: 'boom\tnow\nline two\nline three' }, 1);
    const [line, two, three] = text.split('\n');
    expect(line!.endsWith('\tboom        now')).toBe(true);
    expect([two, three]).toEqual(['  line two', '  line three']);
    const [parsed] = parseStatusLog(text);
    expect(parsed!.extra).toEqual(['line two', 'line three']);
  });

  it('refuses TAB or newline in subdir, operation and fields', () => {
    const entry: StatusLogEntry = { status: 'INFO', subdir: 'a\tb', operation: 'x', timestamp: 1, message: '' };
    expect(() => renderStatusLine(entry, 0)).toThrow(/subdir must not contain TAB/);
    expect(() => renderStatusLine({ ...entry, subdir: 'a', fields: { k: 'v\n' } }, 0)).toThrow(/field k/);
  });

  it('round-trips writer output through the parser', () => {
    const entries: StatusLogEntry[] = [
      { status: 'START', subdir: 'dummy_Pass', operation: 'dummy_Pass', timestamp: 1700000001, message: '', fields: { timeout: '60' } },
      { status: 'GOOD', subdir: 'dummy_Pass', operation: 'dummy_Pass', timestamp: 1700000002, message: 'completed successfully' },
      { status: 'END GOOD', subdir: 'dummy_Pass', operation: 'dummy_Pass', timestamp: 1700000002, message: '' },
    ];
    const text = [renderStatusLine(entries[0]!, 0), renderStatusLine(entries[1]!, 1), renderStatusLine(entries[2]!, 0)].join('');
    const parsed = parseStatusLog(text);
    expect(parsed.map(({ indent, extra: _extra, ...rest }) => ({ indent, ...rest }))).toEqual([
      { indent: 0, ...entries[0], fields: { timeout: '60' } },
      { indent: 1, ...entries[1], fields: {} },
      { indent: 0, ...entries[2], fields: {} },
    ]);
  });

  it('reads a real autotest client log with fields in any order and continuation lines', () => {
    const lines = parseStatusLog(sample);
    expect(lines).toHaveLength(15);
    const info = lines.find((l) => l.status === 'INFO')!;
    expect(info.fields).toEqual({ kernel: '2.6.38' });
    expect(info.timestamp).toBe(1700000002);
    const fail = lines.find((l) => l.status === 'FAIL')!;
    expect(fail.timestamp).toBe(1700000004);
    expect(fail.message).toBe('Broken on purpose');
    expect(fail.extra).toEqual(['Traceback (most recent call last):', '  File "test.py", line 1']);
  });

  it('rolls a log up into per-test results as TKO does', () => {
    const outcome = collectTestResults(sample);
    expect(outcome.tests.map((t) => [t.name, t.status, t.reason])).toEqual([
      ['sleeptest', 'GOOD', ''],
      ['dummy_Fail', 'FAIL', 'Broken on purpose'],
      ['kernbench.mine', 'ERROR', 'Unhandled OSError: no disk'],
      ['platform_Na', 'TEST_NA', 'No TPM on this board'],
    ]);
    expect(outcome.status).toBe('ERROR');
    expect(outcome.truncated).toBe(false);
  });

  it('closes groups left open by a crash as ABORT', () => {
    const cut = sample.split('\n').slice(0, 7).join('\n');
    const outcome = collectTestResults(cut);
    expect(outcome.truncated).toBe(true);
    expect(outcome.tests.at(-1)).toMatchObject({ name: 'dummy_Fail', status: 'ABORT' });
  });
});
