/**
 * The jobs page's filters, as a user types them in the query string: `status`, `user`, `label` (`board=eve`),
 * `from`/`to` (dates, on the submit time) and `q`, words that must all appear in a job (its id, name, user,
 * status, reason, labels, devices, drone), where `-word` means the word must not appear (avocado #5828).
 */
import type { JobRecord } from '../scheduler/records.js';

export interface JobFilter {
  readonly status?: string;
  readonly user?: string;
  readonly label?: string;
  /** `YYYY-MM-DD`, inclusive. */
  readonly from?: string;
  /** `YYYY-MM-DD`, inclusive. */
  readonly to?: string;
  readonly q?: string;
}

/** Reads the filter from a query string object, ignoring empty fields and anything that is not a string. */
export function jobFilterFrom(query: Record<string, unknown>): JobFilter {
  const pick = (name: string): string | undefined => {
    const value = query[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  return {
    status: pick('status'),
    user: pick('user'),
    label: pick('label'),
    from: pick('from'),
    to: pick('to'),
    q: pick('q'),
  };
}

export function filterJobs(jobs: readonly JobRecord[], filter: JobFilter): JobRecord[] {
  const words = (filter.q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const wanted = words.filter((w) => !w.startsWith('-'));
  const unwanted = words.filter((w) => w.startsWith('-') && w.length > 1).map((w) => w.slice(1));
  const fromMs = filter.from ? Date.parse(`${filter.from}T00:00:00Z`) : undefined;
  const toMs = filter.to ? Date.parse(`${filter.to}T23:59:59.999Z`) : undefined;
  return jobs.filter((job) => {
    if (filter.status && job.status !== filter.status.toUpperCase()) return false;
    if (filter.user && job.user !== filter.user) return false;
    if (filter.label && !job.labels.includes(filter.label)) return false;
    const submitted = Date.parse(job.submittedAt);
    if (fromMs !== undefined && !(submitted >= fromMs)) return false;
    if (toMs !== undefined && !(submitted <= toMs)) return false;
    const text = searchText(job);
    return wanted.every((w) => text.includes(w)) && !unwanted.some((w) => text.includes(w));
  });
}

function searchText(job: JobRecord): string {
  return [
    job.id,
    job.name,
    job.user,
    job.status,
    job.reason ?? '',
    job.drone ?? '',
    ...job.labels,
    ...job.machines,
    ...job.targets,
  ]
    .join(' ')
    .toLowerCase();
}
