/**
 * Sysctls that several interceptions need set at once (send_redirects=0 while any device of this machine is
 * intercepted). Each interception that needs a key holds it in its state file with the value to put back:
 * the first one reads the original, later ones inherit it from a holder. Only the last holder to let go
 * restores it, so ending one device's run never re-enables redirects under another's.
 */
import { listStates, saveState, type InterceptionState } from './interception-state.js';
import { readSysctl, writeSysctl } from './sysctl.js';

/** Makes `key` read `value` for as long as `state` holds it. */
export async function holdSysctl(state: InterceptionState, key: string, value: string): Promise<void> {
  const current = await readSysctl(key);
  // A holder saves its state before it writes, so a value already changed always has a holder to inherit from.
  const holder = listStates({ deadOnly: false }).find((other) => other.chain !== state.chain && other.sysctls.some((s) => s.key === key));
  const previous = holder?.sysctls.find((s) => s.key === key)!.previous ?? current;
  if (previous === value && !holder) return;
  state.sysctls.push({ key, previous });
  await saveState(state);
  if (current !== value) await writeSysctl(key, value);
}

/**
 * Lets go of `key`; restores its value unless another interception still holds it. The state file drops the
 * key before looking at the others, so of two letting go at once at least the last one restores it.
 */
export async function releaseSysctl(state: InterceptionState, key: string): Promise<void> {
  const held = state.sysctls.find((s) => s.key === key);
  if (!held) return;
  state.sysctls = state.sysctls.filter((s) => s !== held);
  await saveState(state);
  const stillHeld = listStates({ deadOnly: false }).some((other) => other.chain !== state.chain && other.sysctls.some((s) => s.key === key));
  if (stillHeld) return;
  try {
    await writeSysctl(key, held.previous);
  } catch (error) {
    // Keep the record, so `recall cleanup` can try again.
    state.sysctls.push(held);
    await saveState(state);
    throw error;
  }
}
