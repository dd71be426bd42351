/**
 * The state file of a lab: what `lab up` created, written after every step so `lab down` can undo a crashed
 * `lab up`. Labs live under `/var/lib/autotest-lab/<name>/` (not /run: devices get a private /run, and their
 * sshd must still read its configuration from the lab folder).
 */
import { mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/fs-atomic.js';
import { LabError } from './lab-errors.js';
import { MAX_SLOT } from './lab-plan.js';

export const DEFAULT_STATE_ROOT = '/var/lib/autotest-lab';
const STATE_VERSION = 1;

export interface LabState {
  readonly version: number;
  readonly name: string;
  readonly slot: number;
  readonly deviceCount: number;
  /** Server namespaces (absent in state files of labs made before there could be several: 1). */
  readonly serverCount?: number;
  readonly stateDir: string;
  readonly createdAt: string;
  /** Network namespaces created so far. */
  namespaces: string[];
  /** Long-running processes the lab started, by role (`internet`, `dut1`, …). */
  pids: Record<string, number>;
  /** Folders outside the state folder that the lab created (the server namespace's /etc/netns folder). */
  extraPaths: string[];
  /** True once `lab up` finished. */
  complete: boolean;
}

export function labDir(stateRoot: string, name: string): string {
  return join(stateRoot, name);
}

export function statePath(stateRoot: string, name: string): string {
  return join(labDir(stateRoot, name), 'state.json');
}

export async function writeState(stateRoot: string, state: LabState): Promise<void> {
  await writeFileAtomic(statePath(stateRoot, state.name), `${JSON.stringify(state, null, 2)}\n`);
}

/** The state of a lab, or undefined when there is none. A corrupt file is an error that says how to clean up. */
export async function readState(stateRoot: string, name: string): Promise<LabState | undefined> {
  const path = statePath(stateRoot, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let state: LabState;
  try {
    state = JSON.parse(text) as LabState;
  } catch (error) {
    throw new LabError(
      'ERR_LAB_SETUP',
      `${path} is not valid JSON; run \`lab down --name ${name}\` to remove the lab by its name`,
      { cause: error },
    );
  }
  if (state.version !== STATE_VERSION) {
    throw new LabError(
      'ERR_LAB_SETUP',
      `${path} has version ${state.version}, expected ${STATE_VERSION}; run \`lab down --name ${name}\``,
    );
  }
  return state;
}

export function newState(
  stateRoot: string,
  name: string,
  slot: number,
  deviceCount: number,
  serverCount = 1,
): LabState {
  return {
    version: STATE_VERSION,
    name,
    slot,
    deviceCount,
    serverCount,
    stateDir: labDir(stateRoot, name),
    createdAt: new Date().toISOString(),
    namespaces: [],
    pids: {},
    extraPaths: [],
    complete: false,
  };
}

/** Claims the lowest free slot by creating `slots/<K>` exclusively, so parallel `lab up`s never share addresses. */
export async function claimSlot(
  stateRoot: string,
  name: string,
  isTaken: (slot: number) => Promise<boolean>,
): Promise<number> {
  const dir = join(stateRoot, 'slots');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (let slot = 1; slot <= MAX_SLOT; slot += 1) {
    let handle;
    try {
      handle = await open(join(dir, String(slot)), 'wx', 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    await handle.writeFile(name);
    await handle.close();
    if (!(await isTaken(slot))) return slot;
    // Something outside our bookkeeping (a lab whose state folder was deleted) uses these addresses.
    await rm(join(dir, String(slot)), { force: true });
  }
  throw new LabError(
    'ERR_LAB_NO_SLOT',
    `all ${MAX_SLOT} lab slots under ${dir} are taken; run \`lab down\` for labs you no longer need`,
  );
}

/** Releases the slots a lab holds (normally one). */
export async function releaseSlots(stateRoot: string, name: string): Promise<void> {
  const dir = join(stateRoot, 'slots');
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return; // no slots folder: nothing claimed
  }
  for (const entry of entries) {
    const owner = await readFile(join(dir, entry), 'utf8').catch(() => '');
    if (owner === name) await rm(join(dir, entry), { force: true });
  }
}

/** Names of labs that have a state folder. */
export async function listLabs(stateRoot: string): Promise<string[]> {
  const entries = await readdir(stateRoot, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && e.name !== 'slots').map((e) => e.name);
}
