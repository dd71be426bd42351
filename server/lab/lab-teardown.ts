/**
 * Removing a lab: every process, namespace, link, route and file `lab up` made. It works from the lab's name
 * alone (the plan's naming rules), so it also cleans up after an `lab up` that crashed before or while writing
 * its state file, and it is safe to run twice.
 */
import { readFile, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../lib/logging.js';
import { listLabNamespaces, namespacePids } from './lab-network.js';
import { MAX_SERVERS, namespacePrefix } from './lab-plan.js';
import { labDir, readState, releaseSlots } from './lab-state.js';
import { system } from './system-command.js';

const KILL_WAIT_MS = 10_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false; // ESRCH: gone (EPERM cannot happen: we are root)
  }
}

/** A pid from the state file is only ours if its command line still names the lab's folder (pids get reused). */
async function isLabProcess(pid: number, dir: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes(dir);
}

async function killAll(pids: Set<number>, logger: Logger): Promise<number[]> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + KILL_WAIT_MS;
  let left = [...pids].filter(alive);
  while (left.length && Date.now() < deadline) {
    await sleep(50);
    left = left.filter(alive);
  }
  if (left.length) logger.warn({ pids: left }, 'processes survived SIGKILL');
  return left;
}

export interface TeardownOptions {
  readonly stateRoot: string;
  readonly name: string;
  readonly logger: Logger;
}

/** Removes everything of the lab; returns what could not be removed (empty when the lab is entirely gone). */
export async function teardownLab({ stateRoot, name, logger }: TeardownOptions): Promise<string[]> {
  const problems: string[] = [];
  const dir = labDir(stateRoot, name);
  const state = await readState(stateRoot, name).catch((error: unknown) => {
    logger.warn({ err: error }, 'state file unreadable; removing the lab by its name');
    return undefined;
  });
  const prefix = namespacePrefix(name);

  // Processes first: each device's init would restart its sshd, and a namespace lives on while a process is in it.
  // Repeat, as a dying process may have forked a moment earlier.
  for (let round = 0; round < 3; round += 1) {
    const pids = new Set<number>();
    for (const pid of Object.values(state?.pids ?? {})) if (await isLabProcess(pid, dir)) pids.add(pid);
    for (const namespace of await listLabNamespaces(prefix))
      for (const pid of await namespacePids(namespace)) pids.add(pid);
    pids.delete(process.pid);
    if (pids.size === 0) break;
    const left = await killAll(pids, logger);
    if (round === 2 && left.length) problems.push(`processes still running: ${left.join(' ')}`);
  }

  const namespaces = new Set([...(state?.namespaces ?? []), ...(await listLabNamespaces(prefix))]);
  for (const namespace of namespaces) {
    const out = await system('ip', ['netns', 'del', namespace], { allowFailure: true });
    if ((await listLabNamespaces(namespace)).includes(namespace))
      problems.push(`namespace ${namespace} not removed: ${out}`);
  }
  // Management links are the only links in the root namespace (one per server); their routes go with them.
  for (const suffix of ['', ...Array.from({ length: MAX_SERVERS - 1 }, (_, i) => String(i + 2))]) {
    const mgmt = `${name}-mgmt${suffix}`;
    if ((await system('ip', ['-o', 'link', 'show', 'dev', mgmt], { allowFailure: true })).trim()) {
      await system('ip', ['link', 'del', mgmt], { allowFailure: true });
    }
    await rm(`/etc/netns/${name}-srv${suffix}`, { recursive: true, force: true });
  }
  for (const path of state?.extraPaths ?? []) await rm(path, { recursive: true, force: true });
  await rmdir('/etc/netns').catch(() => {
    // Not empty (another lab, or someone else's namespace files) or already gone: leave it.
  });
  await releaseSlots(stateRoot, name);
  await rm(dir, { recursive: true, force: true });
  for (const empty of [join(stateRoot, 'slots'), stateRoot]) {
    await rmdir(empty).catch(() => {
      // Another lab still uses it (or it is gone): leave it.
    });
  }
  if (
    await stat(dir).then(
      () => true,
      () => false,
    )
  )
    problems.push(`${dir} not removed`);
  return problems;
}
