// Child processes for the benchmarks: spawned in their own process group, pinned to a core with taskset, and
// all killed (group and all) when the run ends, also on failure or Ctrl-C.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const live = new Set();

/** Starts `command args` pinned to `cores` (taskset list, e.g. '0'); output goes to `logFile`'s stream or is kept. */
export function startPinned(cores, command, args, options = {}) {
  const child = spawn('taskset', ['-c', cores, command, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    if (stdout.length > 1_000_000) stdout = stdout.slice(-500_000);
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  child.on('error', () => {}); // reported through `exited` (code null) and the caller's timeout
  live.add(child);
  exited.then(() => live.delete(child));
  const handle = {
    child,
    pid: child.pid,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    /** Resolves with the first stdout line matching `pattern`, or rejects after `timeoutMs` or on exit. */
    async waitFor(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(stdout) ?? pattern.exec(stderr);
        if (match) return match;
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(
            `${command} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}: ${stderr.slice(-800)}`,
          );
        if (Date.now() > deadline)
          throw new Error(
            `${command} did not print ${pattern} within ${timeoutMs} ms: ${stderr.slice(-800)}`,
          );
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: () => stopGroup(child),
  };
  return handle;
}

/** Runs a command pinned to `cores` to completion, bounded by `timeoutMs`; resolves with its output. */
export async function runPinned(cores, command, args, options = {}) {
  const handle = startPinned(cores, command, args, options);
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([handle.exited, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    await handle.stop();
    throw new Error(`${command} ${args.join(' ')} ran longer than ${timeoutMs} ms and was killed`);
  }
  return { ...result, stdout: handle.stdout(), stderr: handle.stderr() };
}

/** SIGTERM to the process group, SIGKILL after 2 s if it is still there. */
export async function stopGroup(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('close', resolve));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return; // the group is already gone
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone in the meantime
    }
  }, 2000);
  await exited;
  clearTimeout(timer);
}

/** Kills every process group this run started that is still alive. */
export async function stopAll() {
  await Promise.all([...live].map((child) => stopGroup(child)));
}

/** Synchronous last resort for process exit. */
export function killAllNow() {
  for (const child of live) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A free TCP port on 127.0.0.1 (for peers that cannot listen on port 0 and report it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls until a TCP connection to 127.0.0.1:port succeeds. */
export async function waitForTcp(port, timeoutMs = 15_000) {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
