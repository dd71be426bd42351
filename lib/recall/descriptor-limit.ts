/**
 * The open-file limit the servers run under. Every connection is a descriptor. Node already raises its soft limit
 * to the hard one at start (as Go programs and nginx do), so there is nothing more a process may raise without
 * privileges; a higher hard limit is the administrator's (systemd `LimitNOFILE=`, `prlimit`, `ulimit -Hn`). The
 * servers' per-source caps keep one client from using the descriptors up whatever the limit.
 */
import { readFile } from 'node:fs/promises';

export interface DescriptorLimit {
  readonly soft: number;
  readonly hard: number;
}

/** The soft and hard open-file limits from /proc/self/limits; undefined where that file does not exist. */
export async function openFileLimit(): Promise<DescriptorLimit | undefined> {
  const text = await readFile('/proc/self/limits', 'utf8').catch(() => undefined);
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text ?? '');
  if (!match) return undefined;
  const value = (v: string): number => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: value(match[1]!), hard: value(match[2]!) };
}
