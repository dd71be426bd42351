/**
 * Verify, as autotest's repair loop does it: can we log in and run a command? A device that fails it after a
 * failed job is marked as needing repair, so it stops taking jobs until `atest repair` sees it verify again.
 */
import { reasonOf } from '../../lib/errors.js';
import { createHost } from '../hosts/index.js';

/** Undefined when the device answers; otherwise one line saying why not. */
export async function verifyDevice(machine: string, options: { timeoutSec?: number } = {}): Promise<string | undefined> {
  const timeoutSec = options.timeoutSec ?? 15;
  try {
    const host = await createHost(machine, { connectTimeoutSec: timeoutSec });
    try {
      await host.run('true', { timeout: timeoutSec });
    } finally {
      await host.close();
    }
    return undefined;
  } catch (error) {
    return `verify failed on ${machine}: ${reasonOf(error)}`;
  }
}
