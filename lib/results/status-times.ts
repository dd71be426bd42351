/**
 * Reads the millisecond START/END times each status.log writer kept (`debug/status-times.jsonl`, see
 * StatusLogWriter): the job's own folder and each machine's folder one level down, whose subdirs are
 * relative to that folder. Results are matched by subdir and name, in the order the tests started.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { STATUS_TIMES_FILE, type StatusTime } from '../status-log-writer.js';

export interface StatusTimes {
  /** The next unclaimed start and end of the group `subdir`/`name`, or undefined when it was not timed. */
  take(subdir: string | undefined, name: string): { start: number; end: number } | undefined;
}

async function readTimes(file: string): Promise<StatusTime[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const times: StatusTime[] = [];
  for (const line of text.split('\n')) {
    try {
      if (line) times.push(JSON.parse(line) as StatusTime);
    } catch {
      // A line cut by a crash: the results fall back to status.log's seconds for that test.
    }
  }
  return times;
}

export async function readStatusTimes(resultsDir: string): Promise<StatusTimes> {
  const folders = [''];
  for (const entry of await readdir(resultsDir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) folders.push(entry.name);
  }
  const pending = new Map<string, { start: number[]; end: number[] }>();
  for (const folder of folders) {
    for (const time of await readTimes(join(resultsDir, folder, STATUS_TIMES_FILE))) {
      const subdir = time.subdir === undefined ? '' : folder ? `${folder}/${time.subdir}` : time.subdir;
      const key = `${subdir}\t${time.operation ?? ''}`;
      const entry = pending.get(key) ?? { start: [], end: [] };
      (time.status === 'START' ? entry.start : entry.end).push(time.ms);
      pending.set(key, entry);
    }
  }
  return {
    take(subdir, name) {
      const entry = pending.get(`${subdir ?? ''}\t${name}`);
      const start = entry?.start.shift();
      const end = entry?.end.shift();
      return start !== undefined && end !== undefined ? { start, end } : undefined;
    },
  };
}
