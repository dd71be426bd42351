// Looking at a lab device's processes from the server side, and polling for a condition (never a fixed sleep).
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { namespacePids } from '../../server/lab/lab-network.js';

/** A process's command line with its NUL separators as spaces ('' once it is gone). */
export async function cmdline(pid: number | string): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
}

/** Processes in the device's namespace whose command line contains `marker`. */
export async function deviceProcesses(namespace: string, marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await namespacePids(namespace)) if ((await cmdline(pid)).includes(marker)) found.push(pid);
  return found;
}

/** Polls until `check` returns true, up to `timeoutMs`; returns the last answer. */
export async function poll(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}
