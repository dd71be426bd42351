/**
 * Watching a host go down and come back, and rebooting it. A new boot is recognised by the kernel's
 * boot id (/proc/sys/kernel/random/boot_id), never by the host merely answering again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../lib/logging.js';
import { HostRebootError } from './host-errors.js';
import type { SSHHost } from './ssh-host.js';

/** Pause between two probes; a probe itself is bounded by the time left (at most 10 s). */
const POLL_INTERVAL_MS = 1000;
const MAX_PROBE_SEC = 10;

export interface RebootOptions {
  /** Seconds to wait for the host to go down, then again to come back. @default 300 */
  readonly timeoutSec?: number;
  /** Shell command that reboots the device. @default `sync; reboot || reboot -f` */
  readonly command?: string;
}

function probeSec(deadline: number): number {
  return Math.max(1, Math.min(MAX_PROBE_SEC, Math.ceil((deadline - Date.now()) / 1000)));
}

export async function waitUp(host: SSHHost, timeoutSec: number): Promise<boolean> {
  const deadline = Date.now() + timeoutSec * 1000;
  for (;;) {
    if (await host.isUp(probeSec(deadline))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_INTERVAL_MS);
  }
}

export async function waitDown(host: SSHHost, timeoutSec: number, oldBootId?: string): Promise<boolean> {
  const deadline = Date.now() + timeoutSec * 1000;
  for (;;) {
    let bootId: string;
    try {
      bootId = await host.bootId(probeSec(deadline));
    } catch {
      return true; // unreachable: down
    }
    if (oldBootId !== undefined && bootId !== oldBootId) return true; // already rebooted
    if (Date.now() >= deadline) return false;
    await sleep(POLL_INTERVAL_MS);
  }
}

export async function rebootHost(host: SSHHost, logger: Logger, options: RebootOptions): Promise<void> {
  const timeoutSec = options.timeoutSec ?? 300;
  const command = options.command ?? 'sync; reboot || reboot -f';
  const oldBootId = await host.bootId();
  logger.info({ oldBootId }, 'rebooting');
  // In the background and detached from the channel, so the command's exit is not lost with the connection.
  await host
    .run(`( sleep 1; ${command} ) </dev/null >/dev/null 2>&1 &`, { timeout: 30 })
    .catch((error: unknown) => {
      logger.debug({ err: error }, 'reboot command ended with the connection (expected)');
    });
  if (!(await host.waitDown(timeoutSec, oldBootId))) {
    throw new HostRebootError(
      host.hostname,
      `did not go down within ${timeoutSec} s after \`${command}\` (boot id still ${oldBootId})`,
    );
  }
  if (!(await host.waitUp(timeoutSec))) {
    throw new HostRebootError(
      host.hostname,
      `did not come back within ${timeoutSec} s after rebooting; check its console`,
    );
  }
  const newBootId = await host.bootId();
  if (newBootId === oldBootId)
    throw new HostRebootError(
      host.hostname,
      `answers again but its boot id is unchanged (${oldBootId}): it did not reboot`,
    );
  logger.info({ newBootId }, 'rebooted');
}
