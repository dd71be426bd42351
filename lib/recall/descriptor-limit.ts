/**
 * Raises this process's open-file limit from its soft value to its hard one, as Go programs and nginx do at start:
 * every connection a server holds is a descriptor, and the common soft default (1024) is far below what the
 * servers' per-source caps allow in total. Node has no setrlimit, so this asks util-linux's `prlimit` to change
 * it for our own pid (allowed for any process up to its hard limit). Best effort: without prlimit the limit stays.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DescriptorLimit {
  /** The soft limit now in force. */
  readonly soft: number;
  readonly hard: number;
  /** The soft limit before, when it was raised. */
  readonly raisedFrom?: number;
}

async function current(pid: number): Promise<{ soft: number; hard: number } | undefined> {
  const { stdout } = await run('prlimit', [
    '--pid',
    String(pid),
    '--nofile',
    '--raw',
    '--noheadings',
    '--output=SOFT,HARD',
  ]);
  const [soft, hard] = stdout
    .trim()
    .split(/\s+/)
    .map((v) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v)));
  return soft !== undefined && hard !== undefined && !Number.isNaN(soft) && !Number.isNaN(hard)
    ? { soft, hard }
    : undefined;
}

/** Raises the soft open-file limit to the hard one; returns the limits in force, or undefined when unknown. */
export async function raiseDescriptorLimit(pid = process.pid): Promise<DescriptorLimit | undefined> {
  try {
    const before = await current(pid);
    if (!before || before.soft >= before.hard || !Number.isFinite(before.hard)) return before;
    await run('prlimit', ['--pid', String(pid), `--nofile=${before.hard}:${before.hard}`]);
    const after = await current(pid);
    return after ? { ...after, raisedFrom: before.soft } : undefined;
  } catch {
    return undefined; // no prlimit, or not allowed: the servers' per-source caps still protect the descriptors
  }
}
