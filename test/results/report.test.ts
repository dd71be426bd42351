// The per-job report opened in headless Chromium from the file system, as a person opens it: what rows,
// colours, filters and Recall explanations they see.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { fixtureTestsDir } from '../helpers/job.js';

const control = (name: string) => new URL(`../fixtures/control/${name}`, import.meta.url).pathname;
/** Screenshots land here (CI keeps test output); docs/report.png is a copy of the first one. */
const screenshotDir = join(repoRoot, 'test-output', 'report');

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function runJob(...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  const results = join(dir, 'results');
  const run = await runCli('autoserv', ['-q', '-r', results, '--tests-dir', fixtureTestsDir, ...args], { cwd: dir });
  return { dir, results, run };
}

/** Opens index.html from the file system and records every request the page makes. */
async function open(results: string): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(join(results, 'index.html')).href);
  await page.waitForSelector('#results tbody tr.result');
  return { page, requests };
}

const visibleResults = (page: Page) =>
  page.$$eval('#results tr.result:not(.hidden)', (rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)));

describe('index.html, the per-job report', () => {
  it('shows the job, a tests × hosts grid in status colours, filters, search, and each Recall miss explained', async () => {
    const { dir, results, run } = await runJob('-m', 'dev1,dev2', '-a', `log=${join(mkdtempSync(join(tmpdir(), 'log-')), 'calls')} fail=dev2`, control('report-mix.ts'));
    expect(run.code, run.stderr).toBe(1);
    const { page, requests } = await open(results);

    expect(await page.title()).toBe('fixture_report_job · FAIL');
    expect(await page.textContent('#job')).toContain('dev1, dev2');
    expect(await page.textContent('#job')).toContain('report-mix.ts');

    // The grid: one row per test, one column per host, each cell coloured by its status.
    expect(await page.$$eval('#grid thead th', (ths) => ths.map((th) => th.textContent))).toEqual(['test', 'dev1', 'dev2']);
    expect(await page.$$eval('#grid tr.grid-row td.name', (tds) => tds.map((td) => td.textContent))).toEqual(['fixture_RecallReport', 'fixture_Lifecycle', 'fixture_Lifecycle.na']);
    const failCell = page.locator('#grid tr[data-test="fixture_Lifecycle"] td[data-host="dev2"] .status');
    expect(await failCell.getAttribute('class')).toBe('status status-FAIL');
    expect(await failCell.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).backgroundColor)).toBe('rgb(207, 34, 46)');
    expect(await page.locator('#grid tr[data-test="fixture_Lifecycle"] td[data-host="dev1"] .status').getAttribute('class')).toBe('status status-GOOD');

    // Every result, in order, with its whole reason.
    expect(await visibleResults(page)).toEqual([
      ['fixture_RecallReport', 'dev1', 'GOOD'],
      ['fixture_RecallReport', 'dev2', 'GOOD'],
      ['fixture_Lifecycle', 'dev1', 'GOOD'],
      ['fixture_Lifecycle', 'dev2', 'FAIL'],
      ['fixture_Lifecycle.na', 'dev1', 'TEST_NA'],
      ['fixture_Lifecycle.na', 'dev2', 'TEST_NA'],
    ]);
    expect(await page.textContent('#count')).toBe('Showing 6 of 6 results');

    // A status filter.
    await page.click('#filters button[data-filter="FAIL"]');
    expect(await visibleResults(page)).toEqual([['fixture_Lifecycle', 'dev2', 'FAIL']]);
    expect(await page.$$eval('#grid tr.grid-row:not(.hidden) td.name', (tds) => tds.map((td) => td.textContent))).toEqual(['fixture_Lifecycle']);
    await page.click('#filters button[data-filter="ALL"]');

    // Search: words must appear, -word must not.
    await page.fill('#search', 'lifecycle -dev2 -na');
    expect(await visibleResults(page)).toEqual([['fixture_Lifecycle', 'dev1', 'GOOD']]);
    await page.fill('#search', '');

    // A Recall test: its totals in the row (DNS misses apart), and each miss with its nearest recording.
    const recallRow = page.locator('#results tr.result', { hasText: 'fixture_RecallReport' }).first();
    expect(await recallRow.textContent()).toContain('Recall: 7 hits, 1 misses, 3 DNS misses (strict=1 counts HTTP misses only)');
    const details = page.locator('#results tr.details:not(.hidden) .recall-details').first();
    expect(await details.locator('.miss').first().textContent()).toBe(
      'iteration 2: MISS GET http://static.lab.test/app.js?v=2 ×2nearest recorded: GET http://static.lab.test/app.js?v=1; differs in query (recorded "v=1", received "v=2")',
    );
    expect(await details.locator('.dns-miss').first().textContent()).toBe('iteration 2: DNS MISS telemetry.lab.test A ×3');
    expect(await details.locator('tr.recall-iteration').first().textContent()).toBe('2713');
    expect(await details.locator('.archive-summary').textContent()).toMatch(/^2 entries, 2 hosts, 1 DNS answers, [\d.]+ KiB on disk$/);

    // Links to each test's logs, relative to the results folder.
    const links = await page.locator('#results tr.details:not(.hidden) .links a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links).toContain('dev1/fixture_RecallReport/status.log');
    expect(links).toContain('dev1/fixture_RecallReport/debug/fixture_RecallReport.DEBUG.txt');

    // Self-contained: nothing but the file itself was loaded.
    expect(requests.every((url) => url.startsWith('file:'))).toBe(true);
    expect(requests).toHaveLength(1);
    mkdirSync(screenshotDir, { recursive: true });
    await page.screenshot({ path: join(screenshotDir, 'report.png'), fullPage: true });
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    await page.close();
  });

  it('is written for a broken job too, naming why it broke', async () => {
    const { results, run } = await runJob(control('syntax-error.ts'));
    expect(run.code).toBe(2);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(join(results, 'index.html')).href);
    expect(await page.textContent('#job-error-text')).toMatch(/^The job broke: control file .*syntax-error\.ts:7:\d+: Expected "\)"/);
    expect(await page.locator('#title .status').getAttribute('class')).toBe('status status-ERROR');
    await page.screenshot({ path: join(screenshotDir, 'broken-job.png') });
    await page.close();
  });
});
