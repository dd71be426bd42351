/**
 * `parallelSimple(fn, machines)`: runs `fn` for every machine at once. Each machine works in its own
 * results folder (`<results>/<machine>/`) with its own status.log; when it finishes, its section is
 * appended to the job's status.log in one piece, so the job's log stays well nested. One machine's failure
 * never stops the others; afterwards one error names every machine that failed.
 *
 * With a single machine, `fn` runs in the job's own folder and its error propagates unchanged, as in autotest.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobError, reasonOf } from '../lib/errors.js';
import type { Job } from '../lib/job.js';
import { writeKeyval } from '../lib/keyval.js';
import { NONE } from '../lib/status-log.js';

export interface ParallelSimpleOptions {
  /** Return each machine's value or error instead of throwing when one failed. @default false */
  returnResults?: boolean;
}

export type MachineResult<T> = { machine: string; ok: true; value: T } | { machine: string; ok: false; error: unknown };

/** Makes a machine's subfolder name safe (user@host:port → user@host_port; never `.`, `..` or hidden). */
export function machineFolder(machine: string): string {
  const folder = machine.replace(/[^\w.@-]/g, '_');
  return folder.startsWith('.') || folder === '' ? `_${folder}` : folder;
}

/** A machine's status.log, or nothing when `fn` recorded no line (the file is made at the first line). */
function readSection(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** Rewrites a machine's status.log section so its subdirs are relative to the job's folder. */
function prefixSubdirs(text: string, folder: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('  ') || line.trim() === '') return line;
      const indent = /^\t*/.exec(line)![0];
      const columns = line.slice(indent.length).split('\t');
      if (columns.length >= 4 && columns[1] !== NONE) columns[1] = `${folder}/${columns[1]}`;
      return indent + columns.join('\t');
    })
    .join('\n');
}

export async function parallelSimple<T>(
  job: Job,
  fn: (machine: string) => Promise<T> | T,
  machines: readonly string[],
  options: ParallelSimpleOptions = {},
): Promise<MachineResult<T>[]> {
  if (machines.length === 0) {
    job.logger.warn('parallelSimple was given no machines: nothing to run');
    return [];
  }
  if (machines.length === 1) {
    const machine = machines[0]!;
    try {
      return [{ machine, ok: true, value: await fn(machine) }];
    } catch (error) {
      if (!options.returnResults) throw error;
      return [{ machine, ok: false, error }];
    }
  }

  const parent = job.context;
  const results = await Promise.all(
    machines.map(async (machine): Promise<MachineResult<T>> => {
      const folder = machineFolder(machine);
      const resultsDir = join(parent.resultsDir, folder);
      const context = job.createContext(resultsDir, machine);
      const status = context.status;
      await writeKeyval(join(resultsDir, 'keyval'), { hostname: machine, status_version: 1 });
      try {
        return { machine, ok: true, value: await job.withContext(context, async () => fn(machine)) };
      } catch (error) {
        status.closeAll('END ABORT', reasonOf(error));
        status.write({ status: 'ERROR', operation: machine, timestamp: Math.floor(Date.now() / 1000), message: reasonOf(error) });
        context.logger.error({ err: error }, `${machine} failed: ${reasonOf(error)}`);
        return { machine, ok: false, error };
      } finally {
        const section = readSection(status.path);
        if (section) parent.status.appendSection(prefixSubdirs(section, folder));
      }
    }),
  );
  const failed = results.filter((r): r is Extract<MachineResult<T>, { ok: false }> => !r.ok);
  if (failed.length > 0 && !options.returnResults) {
    const list = failed.map((r) => `${r.machine} (${reasonOf(r.error)})`).join(', ');
    throw new JobError('ERR_PARALLEL_FAILED', `${failed.length} of ${machines.length} machines failed: ${list}`, {
      cause: failed[0]!.error,
    });
  }
  return results;
}
