/**
 * What a Recall run changed on this machine (its iptables chain, the sysctls it set and their old values),
 * kept in a state file while the run lasts. A run that was killed leaves its file behind: the next start, or
 * `recall cleanup`, finds it (its pid is gone), undoes the changes and removes it.
 */
import { existsSync, readdirSync, readlinkSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/fs-atomic.js';

export const STATE_DIR = process.env.AUTOTEST_RECALL_STATE_DIR ?? '/var/lib/autotest-recall';

export interface InterceptionState {
  chain: string;
  pid: number;
  /** The network namespace the changes were made in (`net:[inode]`): only that namespace can undo them. */
  netns: string;
  host: string;
  sysctls: { key: string; previous: string }[];
  /** Set before the playback seal (filter chains rejecting what Recall does not answer) is made. */
  hermetic?: boolean;
}

export function currentNetns(): string {
  return readlinkSync('/proc/self/ns/net');
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function saveState(state: InterceptionState): Promise<void> {
  await mkdir(STATE_DIR, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(STATE_DIR, `${state.chain}.json`), JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
}

export function removeState(chain: string): void {
  rmSync(join(STATE_DIR, `${chain}.json`), { force: true });
}

/** State files of runs in this network namespace, optionally only those whose process is gone. */
export function listStates(options: { deadOnly: boolean }): InterceptionState[] {
  if (!existsSync(STATE_DIR)) return [];
  const netns = currentNetns();
  const states: InterceptionState[] = [];
  for (const file of readdirSync(STATE_DIR)) {
    if (!file.endsWith('.json')) continue;
    try {
      const state = JSON.parse(readFileSync(join(STATE_DIR, file), 'utf8')) as InterceptionState;
      if (state.netns === netns && (!options.deadOnly || !isAlive(state.pid))) states.push(state);
    } catch {
      // A state file cut short by a crash during its own write holds nothing we could undo.
      rmSync(join(STATE_DIR, file), { force: true });
    }
  }
  return states;
}
