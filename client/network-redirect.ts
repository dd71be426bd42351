/**
 * Points a device's DNS and default route at the Recall server, when they do not point there already, and
 * records how to put them back. IPv4 only (the Recall server intercepts IPv4).
 */
import { open, readFile, realpath, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../lib/fs-atomic.js';
import type { Logger } from '../lib/logging.js';
import { deviceCommand } from './device-command.js';
import type { UndoStack } from './undo-stack.js';

export interface RedirectStep {
  readonly undo: UndoStack;
  readonly logger: Logger;
  readonly commandTimeoutMs: number;
}

/** The `nameserver` addresses of a resolv.conf, in order. */
export function nameserversOf(text: string): string[] {
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
}

/**
 * Writes a file atomically; when it is a mount point (a bind-mounted /etc/resolv.conf in containers and in the
 * lab), rename cannot replace it (EBUSY), so it is rewritten in place instead.
 */
async function replaceFile(path: string, data: Buffer | string, mode: number): Promise<'atomic' | 'in-place'> {
  try {
    await writeFileAtomic(path, data, { mode });
    return 'atomic';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EBUSY' && code !== 'EXDEV') throw error;
  }
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(0);
    await handle.write(typeof data === 'string' ? Buffer.from(data) : data, 0, undefined, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return 'in-place';
}

/**
 * Makes `server` the only name server in `resolvConf` (the file a symbolic link points to, so the link stays),
 * unless it already is. Returns whether the file was changed. Restoring writes the original bytes and mode back.
 */
export async function pointDnsAt(server: string, resolvConf: string, step: RedirectStep): Promise<boolean> {
  const path = await realpath(resolvConf);
  const original = await readFile(path);
  const mode = (await stat(path)).mode & 0o7777;
  const current = nameserversOf(original.toString('utf8'));
  if (current.length > 0 && current.every((address) => address === server)) {
    step.logger.info({ path, nameservers: current }, 'DNS already points at the Recall server');
    return false;
  }
  const text = `# Written by autotest's RecallContext: DNS goes to the Recall server. The original comes back when the test ends.\nnameserver ${server}\n`;
  // Recorded first: an in-place rewrite that fails halfway must still be undone.
  step.undo.push(`restore ${path}`, async () => void (await replaceFile(path, original, mode)));
  const how = await replaceFile(path, text, mode);
  step.logger.info({ path, was: current, now: server, how }, 'DNS now points at the Recall server');
  return true;
}

// Flags `ip route show` prints that `ip route add` does not accept.
const STATUS_FLAGS = new Set(['linkdown', 'dead', 'offload', 'trap', 'rt_offload', 'rt_trap', 'rt_offload_failed', 'notify']);

/** `ip route show default`, one route per line. */
async function defaultRoutes(timeoutMs: number): Promise<string[]> {
  const out = await deviceCommand('ip', ['-4', 'route', 'show', 'default'], { timeoutMs });
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}

function routeArgs(line: string): string[] {
  return line.split(/\s+/).filter((word) => !STATUS_FLAGS.has(word));
}

/**
 * Makes the default route go via `server` (`ip route replace default via <server>`), unless the first default
 * route already does. Returns whether the routes were changed. Restoring deletes the route it made and puts
 * every original default route back with all its attributes (device, metric, protocol, source).
 */
export async function pointDefaultRouteAt(server: string, step: RedirectStep): Promise<boolean> {
  const timeoutMs = step.commandTimeoutMs;
  const original = await defaultRoutes(timeoutMs);
  if (/\bvia\s+(\S+)/.exec(original[0] ?? '')?.[1] === server) {
    step.logger.info({ routes: original }, 'the default route already goes via the Recall server');
    return false;
  }
  await deviceCommand('ip', ['-4', 'route', 'replace', 'default', 'via', server], { timeoutMs });
  const made = (await defaultRoutes(timeoutMs)).find((line) => /\bvia\s+(\S+)/.exec(line)?.[1] === server && !original.includes(line));
  step.undo.push(`restore the default route (${original.join('; ') || 'none'})`, async () => {
    // The originals go back even when deleting ours failed; the first failure is reported afterwards.
    let failure: unknown;
    if (made) await deviceCommand('ip', ['-4', 'route', 'del', ...routeArgs(made)], { timeoutMs }).catch((error: unknown) => (failure = error));
    for (const line of original) {
      await deviceCommand('ip', ['-4', 'route', 'replace', ...routeArgs(line)], { timeoutMs }).catch((error: unknown) => (failure ??= error));
    }
    if (failure) throw failure;
  });
  step.logger.info({ was: original, now: made }, 'the default route now goes via the Recall server');
  return true;
}
