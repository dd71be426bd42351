import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, openLevelFiles } from '../../lib/logging.js';
import { progressPrinter } from '../../server/cli/progress-printer.js';
import { renderSummary, type SummaryRow } from '../../server/summary-table.js';

const longReason =
  'Cannot read SSH key /home/lab/.ssh/id_ed25519: EACCES: permission denied, open /home/lab/.ssh/id_ed25519; make it readable by the user running run-remote (chmod 600) or pass another key with --ssh-key';

describe('the summary table', () => {
  it('shows a whole reason, wrapped under the reason column, never cut', () => {
    const rows: SummaryRow[] = [
      { test: 'desktopui_UrlFetch', host: '198.18.1.2', status: 'ERROR', reason: longReason, durationMs: 1234 },
      { test: 'dummy_Pass', host: '198.18.1.2', status: 'GOOD', reason: '', durationMs: 250 },
    ];
    const text = renderSummary(rows, '/results/x', { width: 100 });
    const lines = text.split('\n');
    const first = lines.findIndex((l) => l.startsWith('desktopui_UrlFetch'));
    const column = lines[first]!.indexOf('Cannot');
    const continued = lines.slice(first + 1).filter((l) => l.startsWith(' '.repeat(column)) && l.trim());
    const shown = [lines[first]!.slice(column), ...continued.map((l) => l.slice(column))].join(' ');
    expect(shown).toBe(longReason);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(text).toMatch(/^desktopui_UrlFetch\s+198\.18\.1\.2\s+ERROR\s+1\.2s\s+Cannot read SSH key/m);
    expect(text).toContain('Total PASS: 1/2 (50%)');
  });

  it('shows Recall DNS misses apart from HTTP misses, and says strict=1 does not count them', () => {
    const rows: SummaryRow[] = [{ test: 'test_RecallServer', host: 'dev1', status: 'GOOD', reason: '', durationMs: 9000, recall: { hits: 40, misses: 0, dnsMisses: 2 } }];
    expect(renderSummary(rows, '/r')).toMatch(/GOOD\s+9\.0s\s+Recall: 40 hits, 0 misses, 2 DNS misses \(strict=1 counts HTTP misses only\)$/m);
  });
});

function sink() {
  let text = '';
  const out = new Writable({ write: (chunk, _enc, done) => ((text += String(chunk)), done()) });
  return { out, text: () => text };
}

describe('run-remote progress', () => {
  const entry = (status: 'START' | 'END GOOD' | 'END FAIL', name: string) => ({ status, subdir: name, operation: name, timestamp: 0, message: '' });

  it('prints plain lines when not on a terminal: which test runs where and N of M done', () => {
    const { out, text } = sink();
    let now = 0;
    const progress = progressPrinter(out, { total: 4, tty: false, verbose: false, now: () => now });
    progress.startTest('dummy_Pass', ['dev1', 'dev2']);
    progress.onStatus(entry('START', 'dummy_Pass'), 0, 'dev1');
    now = 1500;
    progress.onStatus(entry('END GOOD', 'dummy_Pass'), 0, 'dev1');
    progress.endTest(0);
    progress.stop();
    expect(text().split('\n')).toEqual([
      '[0 of 4 done, 0.0s] dummy_Pass on dev1, dev2: starting',
      '[0 of 4 done, 0.0s] dev1: dummy_Pass running',
      '[0 of 4 done, 1.5s] dev1: dummy_Pass GOOD',
      '[2 of 4 done, 1.5s] dummy_Pass: finished (exit code 0)',
      '',
    ]);
    expect(text()).not.toContain('\r');
  });

  it('redraws one line on a terminal, with what runs on each host and for how long', () => {
    const { out, text } = sink();
    let now = 0;
    const progress = progressPrinter(out, { total: 2, tty: true, verbose: false, now: () => now });
    progress.startTest('test_RecallServer', ['dev1']);
    progress.onStatus(entry('START', 'test_RecallServer'), 0, 'dev1');
    now = 2000;
    progress.onStatus(entry('START', 'desktopui_UrlFetch.iteration2'), 1, 'dev1');
    now = 4000;
    progress.onStatus(entry('END FAIL', 'desktopui_UrlFetch.iteration2'), 1, 'dev1');
    progress.stop();
    const frames = text().split('\r\x1b[K');
    expect(frames).toContain('[0 of 2 done, 2.0s] test_RecallServer: dev1 desktopui_UrlFetch.iteration2 0.0s');
    // A failure is kept as a line of its own above the updating one.
    expect(frames).toContain('[0 of 2 done, 4.0s] dev1: desktopui_UrlFetch.iteration2 FAIL\n');
    expect(frames.at(-1)).toBe('');
  });
});

describe('readable logs', () => {
  it('each pino JSON log has a plain-text twin: local time, level, who, message, and an error’s stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const files = openLevelFiles(dir, 'autoserv');
    const logger = createLogger(files.streams, { component: 'autoserv' });
    logger.child({ machine: 'dev1', test: 'dummy_Pass' }).info('running dummy_Pass');
    logger.error({ err: new Error('boom') }, 'job aborted: boom');
    files.close();
    expect(JSON.parse(readFileSync(join(dir, 'autoserv.INFO'), 'utf8').split('\n')[0]!)).toMatchObject({ msg: 'running dummy_Pass' });
    const info = readFileSync(join(dir, 'autoserv.INFO.txt'), 'utf8').split('\n');
    expect(info[0]).toMatch(/^\d\d\/\d\d \d\d:\d\d:\d\d\.\d{3} INFO {2}\[dev1 dummy_Pass autoserv\] running dummy_Pass$/);
    expect(info[1]).toMatch(/^\d\d\/\d\d \d\d:\d\d:\d\d\.\d{3} ERROR \[autoserv\] job aborted: boom$/);
    expect(info[2]).toBe('    Error: boom');
    expect(readFileSync(join(dir, 'autoserv.ERROR.txt'), 'utf8')).not.toContain('running dummy_Pass');
  });
});
