/** How `atest` prints jobs and devices for people (`--json` prints the records). */
import { infrastructureRetries, type DroneRecord, type HostRecord, type JobRecord } from '../scheduler/records.js';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const time = (iso?: string) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');

export function renderJobs(jobs: readonly JobRecord[]): string {
  if (jobs.length === 0) return 'no jobs';
  return table(
    ['id', 'name', 'status', 'priority', 'user', 'drone', 'devices', 'submitted', 'reason'],
    jobs.map((j) => [j.id, j.name, j.status, String(j.priority), j.user, j.drone ?? '', j.machines.join(','), time(j.submittedAt), j.reason ?? '']),
  );
}

export function renderJob(job: JobRecord): string {
  const wanted = [...job.targets, ...job.labels].join(' ') || 'any device';
  const lines = [
    `job ${job.id}: ${job.name}  ${job.status}${job.reason ? `  (${job.reason})` : ''}`,
    `  user ${job.user}, priority ${job.priority}, ${job.count} device(s) with ${wanted}${job.needsGateway ? ', on the gateway drone' : ''}${job.timeoutSec ? `, timeout ${job.timeoutSec} s` : ''}`,
    `  control ${job.control}${job.args ? `  -a '${job.args}'` : ''}`,
    `  submitted ${time(job.submittedAt)}${job.startedAt ? `, started ${time(job.startedAt)}` : ''}${job.endedAt ? `, ended ${time(job.endedAt)}` : ''}`,
  ];
  if (job.resultsUrl) lines.push(`  results ${job.resultsUrl}`);
  const retries = infrastructureRetries(job).length;
  lines.push(`  attempts ${job.attempts.length}, infrastructure retries ${retries}`);
  for (const a of job.attempts) {
    lines.push(
      `    #${a.number} ${a.status}${a.infrastructure ? ' (infrastructure)' : ''} on drone ${a.drone}, devices ${a.machines.join(',')}, ${time(a.startedAt)}${a.endedAt ? ` .. ${time(a.endedAt)}` : ''}${a.reason ? `: ${a.reason}` : ''}`,
    );
  }
  return lines.join('\n');
}

export function renderHosts(hosts: readonly HostRecord[]): string {
  if (hosts.length === 0) return 'no devices: load an inventory with atest inventory load FILE';
  return table(
    ['host', 'address', 'drone', 'state', 'job', 'labels', 'reason'],
    hosts.map((h) => [
      h.name,
      h.address,
      h.drone,
      h.repair ? 'REPAIR' : h.locked ? 'LOCKED' : h.lease ? 'LEASED' : 'READY',
      h.lease?.jobId ?? '',
      Object.entries(h.labels).map(([k, v]) => `${k}=${v}`).join(' '),
      h.repair ? h.repair.reason : h.locked ? `locked by ${h.locked.by}: ${h.locked.reason}` : '',
    ]),
  );
}

export function renderDrones(drones: readonly DroneRecord[]): string {
  if (drones.length === 0) return 'no drones yet: start one with drone --name NAME --results STORE';
  return table(
    ['drone', 'state', 'host', 'jobs', 'last heartbeat'],
    drones.map((d) => [d.name, d.alive ? 'ALIVE' : 'GONE', d.host ?? '', d.alive ? `${d.running.length}/${d.maxJobs ?? '?'} ${d.running.join(',')}`.trim() : '', time(d.at)]),
  );
}
