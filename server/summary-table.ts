/**
 * The table `run-remote` and `autoserv` end with, like generate_test_report: one row per test and host, the
 * status, how long it took and the whole reason it did not pass (wrapped, never cut), then the pass count.
 * Recall tests add a line with their hits, misses and DNS misses (strict=1 fails on misses only).
 */
import { isPassing, isTestStatus } from '../lib/status.js';
import type { JobSummary } from '../lib/results/write-job-results.js';

export interface SummaryRow {
  test: string;
  host: string;
  status: string;
  reason: string;
  /** From the job's clock. */
  durationMs: number;
  /** Recall playback totals, for Recall tests. */
  recall?: { hits: number; misses: number; dnsMisses: number };
}

export function summaryRows(testName: string, summary: JobSummary, hosts: readonly string[]): SummaryRow[] {
  const broke = summary.job.interrupted || summary.job.error !== undefined;
  const jobRow = (host: string): SummaryRow => ({
    test: testName,
    host,
    status: summary.job.interrupted ? 'ABORT' : 'ERROR',
    reason: summary.job.error ?? (summary.job.interrupted ? 'interrupted' : 'no test ran'),
    durationMs: summary.job.durationMs,
  });
  // The job broke before any test ran: one row per host with the job's error.
  if (summary.tests.length === 0) return (hosts.length ? hosts : ['']).map(jobRow);
  const rows: SummaryRow[] = summary.tests.map((t) => ({
    test: t.name,
    host: t.machine ?? hosts[0] ?? '',
    status: t.status,
    reason: t.reason,
    durationMs: t.durationMs,
    ...(t.recall ? { recall: { hits: t.recall.hits, misses: t.recall.misses, dnsMisses: t.recall.dnsMisses } } : {}),
  }));
  // The job broke although every test it ran passed: the table must not read as green.
  if (broke && rows.every((r) => isTestStatus(r.status) && isPassing(r.status))) rows.push(jobRow(hosts.join(', ')));
  return rows;
}

export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}

/** Splits text into lines of at most `width` characters, at spaces where it can. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      let rest = word;
      while (rest.length > 0) {
        const room = width - (line ? line.length + 1 : 0);
        if (rest.length <= room) {
          line = line ? `${line} ${rest}` : rest;
          rest = '';
        } else if (line) {
          lines.push(line);
          line = '';
        } else {
          lines.push(rest.slice(0, width)); // a word longer than the column: break it, never drop it
          rest = rest.slice(width);
        }
      }
    }
    lines.push(line);
  }
  return lines;
}

function reasonText(row: SummaryRow): string {
  if (!row.recall) return row.reason;
  const { hits, misses, dnsMisses } = row.recall;
  const recall = `Recall: ${hits} hits, ${misses} misses, ${dnsMisses} DNS misses${dnsMisses ? ' (strict=1 counts HTTP misses only)' : ''}`;
  return row.reason ? `${row.reason}\n${recall}` : recall;
}

export interface RenderSummaryOptions {
  /** Paint statuses green and red. */
  color?: boolean;
  /** Total width to wrap reasons at. @default 120 */
  width?: number;
}

export function renderSummary(rows: readonly SummaryRow[], resultsDir: string, options: RenderSummaryOptions | boolean = {}): string {
  const { color = false, width = 120 } = typeof options === 'boolean' ? { color: options } : options;
  const headers = ['test', 'host', 'status', 'duration', 'reason'];
  const cells = rows.map((r) => [r.test, r.host, r.status, formatDuration(r.durationMs)]);
  const widths = headers.slice(0, 4).map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const reasonColumn = widths.reduce((a, b) => a + b + 2, 0);
  const reasonWidth = Math.max(40, width - reasonColumn);
  const paint = (status: string, text: string) => (!color ? text : isTestStatus(status) && isPassing(status) ? `\x1b[32m${text}\x1b[0m` : `\x1b[31m${text}\x1b[0m`);
  const line = (values: string[], status?: string) =>
    values.map((v, i) => (i === 2 && status ? paint(status, v.padEnd(widths[i]!)) : i < 4 ? v.padEnd(widths[i]!) : v)).join('  ').trimEnd();
  const body = rows.flatMap((row, i) => {
    const [first = '', ...more] = wrapText(reasonText(row), reasonWidth);
    return [line([...cells[i]!, first], row.status), ...more.map((text) => `${' '.repeat(reasonColumn)}${text}`)];
  });
  const reasonLength = Math.max(6, ...body.map((l) => l.length - reasonColumn));
  const dashes = '-'.repeat(Math.min(reasonColumn + reasonLength, Math.max(width, reasonColumn + 6)));
  const passed = rows.filter((r) => isTestStatus(r.status) && isPassing(r.status)).length;
  const pct = rows.length ? Math.round((passed / rows.length) * 100) : 0;
  return [dashes, line(headers), dashes, ...body, dashes, `Total PASS: ${passed}/${rows.length} (${pct}%)`, `Results: ${resultsDir}`, ''].join('\n');
}
