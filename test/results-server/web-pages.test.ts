// The jobs page's rendering and filters as pure functions: the row cap, escaping, and negative search.
import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../server/scheduler/records.js';
import { filterJobs } from '../../server/results-server/job-filter.js';
import { jobsPage, MAX_JOB_ROWS } from '../../server/results-server/web-pages.js';

const job = (n: number, extra: Partial<JobRecord> = {}): JobRecord => ({
  id: `${n}-alice`,
  name: 'dummy_Pass',
  user: 'alice',
  control: 'dummy_Pass',
  args: '',
  targets: [],
  labels: ['pool=lab'],
  count: 1,
  priority: 50,
  timeoutSec: 0,
  needsGateway: false,
  status: 'GOOD',
  machines: ['dut1'],
  submittedAt: new Date(Date.UTC(2026, 10, 29, 12, 0, n % 60)).toISOString(),
  attempts: [],
  ...extra,
});

describe('jobs page', () => {
  it(`shows at most ${MAX_JOB_ROWS} rows and says how many matched`, () => {
    const jobs = Array.from({ length: MAX_JOB_ROWS + 1 }, (_, i) => job(i + 1));
    const html = jobsPage(jobs, {}, jobs.length, () => undefined);
    expect(html.match(/<tr data-job=/g)).toHaveLength(MAX_JOB_ROWS);
    expect(html).toContain(
      `${MAX_JOB_ROWS + 1} of ${MAX_JOB_ROWS + 1} jobs, the newest ${MAX_JOB_ROWS} shown`,
    );
  });

  it('escapes what devices and users wrote', () => {
    const html = jobsPage(
      [job(1, { reason: '<script>alert(1)</script>', user: '"><b>' })],
      {},
      1,
      () => undefined,
    );
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).not.toContain('"><b>');
  });

  it('excludes jobs with a -word and keeps those with every plain word', () => {
    const jobs = [
      job(1, { name: 'network_Ping' }),
      job(2, { name: 'network_Flaky', reason: 'timeout' }),
      job(3),
    ];
    expect(filterJobs(jobs, { q: 'network -flaky' }).map((j) => j.id)).toEqual(['1-alice']);
    expect(filterJobs(jobs, { q: '-network' }).map((j) => j.id)).toEqual(['3-alice']);
    expect(filterJobs(jobs, { q: '-' }).map((j) => j.id)).toEqual(['1-alice', '2-alice', '3-alice']);
  });
});
