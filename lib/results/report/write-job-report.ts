/**
 * The per-job HTML report: `index.html` in the results folder, one self-contained file (data, CSS and
 * script inline, nothing fetched) that opens from the file system or from any web server. Written
 * atomically at the end of every job, a broken or interrupted one too.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../../fs-atomic.js';
import type { JobInfo, JobSummary, JobTestResult } from '../write-job-results.js';
import { readRecallDetails, type RecallDetails } from './recall-details.js';
import { renderReportPage } from './report-page.js';

export const REPORT_FILE = 'index.html';

export interface ReportLink {
  label: string;
  /** Relative to the results folder. */
  href: string;
}

export interface ReportTest extends JobTestResult {
  links: ReportLink[];
  recallDetails?: RecallDetails;
}

export interface ReportData {
  job: JobInfo;
  status: JobSummary['status'];
  passed: boolean;
  /** Columns of the grid: the job's machines, and any other host a result names. */
  hosts: string[];
  /** The control file's text, when it was kept in the results folder. */
  control?: string;
  links: ReportLink[];
  tests: ReportTest[];
}

function existingLinks(resultsDir: string, candidates: [label: string, path: string][]): ReportLink[] {
  return candidates.filter(([, path]) => existsSync(join(resultsDir, path))).map(([label, path]) => ({ label, href: path.split('/').map(encodeURIComponent).join('/') }));
}

function testLinks(resultsDir: string, test: JobTestResult): ReportLink[] {
  if (!test.subdir) return [];
  const debug = `${test.subdir}/debug/${test.name}`;
  return existingLinks(resultsDir, [
    ['status.log', `${test.subdir}/status.log`],
    ['debug log', `${debug}.DEBUG.txt`],
    ['errors', `${debug}.ERROR.txt`],
    ['debug (JSON)', `${debug}.DEBUG`],
    ['keyval', `${test.subdir}/results/keyval`],
    ['archive', `${test.subdir}/archive.har.gz`],
    ['folder', `${test.subdir}`],
  ]);
}

export async function buildReportData(summary: JobSummary): Promise<ReportData> {
  const dir = summary.job.resultsDir;
  const tests = await Promise.all(
    summary.tests.map(async (test): Promise<ReportTest> => {
      const recall = test.subdir ? await readRecallDetails(join(dir, test.subdir)) : undefined;
      return { ...test, links: testLinks(dir, test), ...(recall ? { recallDetails: recall } : {}) };
    }),
  );
  const hosts = [...new Set([...summary.job.machines, ...tests.map((t) => t.machine ?? '')])];
  const control = (await readFile(join(dir, 'control.srv'), 'utf8').catch(() => undefined)) ?? (await readFile(join(dir, 'control'), 'utf8').catch(() => undefined));
  const links = existingLinks(dir, [
    ['status.log', 'status.log'],
    ['autoserv log', 'debug/autoserv.DEBUG.txt'],
    ['errors', 'debug/autoserv.ERROR.txt'],
    ['results.json', 'results.json'],
    ['junit.xml', 'junit.xml'],
    ['keyval', 'keyval'],
    ...summary.job.machines.map((m): [string, string] => [`${m} status.log`, `${relative(dir, join(dir, m.replace(/[^\w.@-]/g, '_')))}/status.log`]),
  ]);
  return { job: summary.job, status: summary.status, passed: summary.passed, hosts: hosts.length ? hosts : [''], ...(control !== undefined ? { control } : {}), links, tests };
}

export async function writeJobReport(summary: JobSummary): Promise<string> {
  const data = await buildReportData(summary);
  const file = join(summary.job.resultsDir, REPORT_FILE);
  await writeFileAtomic(file, renderReportPage(data));
  return file;
}
