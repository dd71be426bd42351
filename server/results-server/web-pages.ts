/** The web view's pages: jobs (with filters), one job, the devices with their leases, the queue. */
import type { HostRecord, JobRecord } from '../scheduler/records.js';
import { JOB_STATUSES } from '../scheduler/records.js';
import type { JobFilter } from './job-filter.js';
import { duration, html, page, table, type SafeHtml } from './web-page.js';

/** Rows the jobs page shows at most; filters narrow the rest down. */
export const MAX_JOB_ROWS = 500;

/** Links to a job's report when the store holds its results. */
export type ReportLink = (jobId: string) => string | undefined;

export function jobsPage(
  jobs: readonly JobRecord[],
  filter: JobFilter,
  total: number,
  report: ReportLink,
): string {
  const statusOptions = ['', ...JOB_STATUSES].map(
    (s) =>
      html`<option value="${s}" ${s === (filter.status ?? '').toUpperCase() && s ? html` selected` : ''}>
        ${s || 'any'}
      </option>`,
  );
  const count =
    `${jobs.length} of ${total} jobs` +
    (jobs.length > MAX_JOB_ROWS ? `, the newest ${MAX_JOB_ROWS} shown: filter to see others` : '');
  const form = html`<form method="get" action="/jobs">
      <label
        >status
        <select name="status">
          ${statusOptions}
        </select></label
      >
      <label>user <input name="user" value="${filter.user ?? ''}" size="10" /></label>
      <label
        >label <input name="label" value="${filter.label ?? ''}" placeholder="board=eve" size="12"
      /></label>
      <label>from <input type="date" name="from" value="${filter.from ?? ''}" /></label>
      <label>to <input type="date" name="to" value="${filter.to ?? ''}" /></label>
      <label
        >search <input name="q" value="${filter.q ?? ''}" placeholder="word -excluded" size="20"
      /></label>
      <button type="submit">Filter</button> <a href="/jobs">clear</a>
    </form>
    <p class="muted" id="job-count">${count}</p>`;
  const rows = jobs.slice(0, MAX_JOB_ROWS).map((job) => {
    const link = report(job.id);
    return html`<tr data-job="${job.id}">
      <td><a href="/jobs/${encodeURIComponent(job.id)}">${job.id}</a></td>
      <td>${job.name}</td>
      <td>${job.user}</td>
      <td class="${job.status}">${job.status}</td>
      <td>${job.labels.join(' ')}</td>
      <td>${job.machines.join(' ')}</td>
      <td>${job.drone ?? ''}</td>
      <td>${job.submittedAt.replace('T', ' ').slice(0, 19)}</td>
      <td>${duration(job.startedAt, job.endedAt)}</td>
      <td>${job.reason ?? ''}</td>
      <td>${link ? html`<a href="${link}">report</a>` : ''}</td>
    </tr>`;
  });
  return page(
    'Jobs',
    html`${form}
      ${table('jobs', ['id', 'name', 'user', 'status', 'labels', 'devices', 'drone', 'submitted', 'duration', 'reason', ''], rows)}`,
  );
}

export function jobPage(job: JobRecord, report: ReportLink): string {
  const link = report(job.id);
  const attempts = job.attempts.map(
    (a) =>
      html`<tr>
        <td>${a.number}</td>
        <td>${a.drone}</td>
        <td>${a.machines.join(' ')}</td>
        <td class="${a.status}">${a.status}</td>
        <td>${a.infrastructure ? 'infrastructure' : ''}</td>
        <td>${a.startedAt}</td>
        <td>${duration(a.startedAt, a.endedAt)}</td>
        <td>${a.reason ?? ''}</td>
      </tr>`,
  );
  const fields: [string, unknown][] = [
    ['name', job.name],
    ['status', job.status],
    ['reason', job.reason ?? ''],
    ['user', job.user],
    ['control', job.control],
    ['args', job.args],
    ['targets', job.targets.join(' ')],
    ['labels', job.labels.join(' ')],
    ['devices', job.machines.join(' ')],
    ['priority', job.priority],
    ['drone', job.drone ?? ''],
    ['submitted', job.submittedAt],
    ['started', job.startedAt ?? ''],
    ['ended', job.endedAt ?? ''],
  ];
  return page(
    `Job ${job.id}`,
    html`<p>
        ${link ? html`<a id="report" href="${link}">Open the report</a> · <a id="browse" href="/browse/${encodeURIComponent(job.id)}/">Browse the results folder</a>` : html`<span class="muted">No results uploaded yet.</span>`}
      </p>
      <table id="job">
        ${fields.map(
          ([k, v]) =>
            html`<tr>
              <th>${k}</th>
              <td>${v}</td>
            </tr>`,
        )}
      </table>
      <h2>Attempts</h2>
      ${table('attempts', ['#', 'drone', 'devices', 'status', '', 'started', 'duration', 'reason'], attempts)}`,
  );
}

export function hostsPage(hosts: readonly HostRecord[]): string {
  const rows = hosts.map((host) => {
    const labels = Object.entries(host.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const lease = host.lease
      ? html`<a href="/jobs/${encodeURIComponent(host.lease.jobId)}">${host.lease.jobId}</a> on
          ${host.lease.drone} since ${host.lease.since}`
      : html`<span class="muted">free</span>`;
    const state: SafeHtml[] = [];
    if (host.locked)
      state.push(html`<span class="warn">locked by ${host.locked.by}: ${host.locked.reason}</span>`);
    if (host.repair) state.push(html`<span class="warn">needs repair: ${host.repair.reason}</span>`);
    return html`<tr data-host="${host.name}">
      <td>${host.name}</td>
      <td>${host.address}</td>
      <td>${labels}</td>
      <td>${host.drone}</td>
      <td class="lease">${lease}</td>
      <td>${state.length ? state : html`<span class="muted">ready</span>`}</td>
    </tr>`;
  });
  return page(
    'Devices',
    html`${table('hosts', ['device', 'address', 'labels', 'gateway drone', 'lease', 'state'], rows)}`,
  );
}

export function queuePage(jobs: readonly JobRecord[]): string {
  const waiting = jobs
    .filter((j) => j.status === 'QUEUED')
    .sort((a, b) => b.priority - a.priority || a.submittedAt.localeCompare(b.submittedAt));
  const running = jobs.filter((j) => j.status === 'RUNNING');
  const row = (job: JobRecord): SafeHtml =>
    html`<tr data-job="${job.id}">
      <td><a href="/jobs/${encodeURIComponent(job.id)}">${job.id}</a></td>
      <td>${job.name}</td>
      <td>${job.user}</td>
      <td>${job.priority}</td>
      <td>${job.targets.length ? job.targets.join(' ') : job.labels.join(' ')}</td>
      <td>${job.count}</td>
      <td>${job.drone ?? ''}</td>
      <td>${job.reason ?? ''}</td>
    </tr>`;
  const columns = ['id', 'name', 'user', 'priority', 'wants', 'devices', 'drone', 'reason'];
  return page(
    'Queue',
    html`<h2>Running (${running.length})</h2>
      ${table('running', columns, running.map(row))}
      <h2>Waiting (${waiting.length}), in the order they will run</h2>
      ${table('waiting', columns, waiting.map(row))}
      <p><a href="/bull/">Bull Board</a> shows BullMQ's own view of the queue.</p>`,
  );
}
