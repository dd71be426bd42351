/**
 * The table `run-remote` ends with, like generate_test_report: one row per test and host, the status, the
 * reason it did not pass and how long it took, then the pass count.
 */
import { isPassing, isTestStatus } from '../lib/status.js';
import type { JobSummary } from '../lib/results/write-job-results.js';

export interface SummaryRow {
  test: string;
  host: string;
  status: string;
  reason: string;
  seconds: number;
}

export function summaryRows(testName: string, summary: JobSummary, hosts: readonly string[]): SummaryRow[] {
  if (summary.tests.length === 0) {
    // The job broke before any test ran: one row per host with the job's error.
    return hosts.map((host) => ({ test: testName, host, status: summary.job.interrupted ? 'ABORT' : 'ERROR', reason: summary.job.error ?? 'no test ran', seconds: summary.job.finished - summary.job.started }));
  }
  return summary.tests.map((t) => ({
    test: t.name,
    host: t.machine ?? hosts[0] ?? '',
    status: t.status,
    reason: t.reason,
    seconds: Math.max(0, t.finished - t.started),
  }));
}

export function renderSummary(rows: readonly SummaryRow[], resultsDir: string, color = false): string {
  const headers = ['test', 'host', 'status', 'duration', 'reason'];
  const cells = rows.map((r) => [r.test, r.host, r.status, `${r.seconds}s`, r.reason.length > 80 ? `${r.reason.slice(0, 77)}...` : r.reason]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const paint = (status: string, text: string) => (!color ? text : isTestStatus(status) && isPassing(status) ? `\x1b[32m${text}\x1b[0m` : `\x1b[31m${text}\x1b[0m`);
  const line = (values: string[], status?: string) =>
    values.map((v, i) => (i === 2 && status ? paint(status, v.padEnd(widths[i]!)) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const dashes = '-'.repeat(widths.reduce((a, b) => a + b + 2, 0));
  const passed = rows.filter((r) => isTestStatus(r.status) && isPassing(r.status)).length;
  const pct = rows.length ? Math.round((passed / rows.length) * 100) : 0;
  return [dashes, line(headers), dashes, ...cells.map((c, i) => line(c, rows[i]!.status)), dashes, `Total PASS: ${passed}/${rows.length} (${pct}%)`, `Results: ${resultsDir}`, ''].join('\n');
}
