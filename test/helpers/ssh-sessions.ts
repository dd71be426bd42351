// Crashes a lab device's SSH connections the hard way: kills the session processes of its sshd (the listener's
// children), so every connection drops while whatever the device runs detached goes on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Returns how many session processes it killed. */
export function dropSshSessions(namespace: string): number {
  const pids = execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const info = pids.map((pid) => ({
    pid: Number(pid),
    ppid: Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]),
    cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8'),
  }));
  const listener = info.find((p) => p.cmdline.includes('[listener]'));
  if (!listener) throw new Error(`no sshd listener in namespace ${namespace}`);
  const sessions = info.filter((p) => p.ppid === listener.pid);
  for (const session of sessions) process.kill(session.pid, 'SIGKILL');
  return sessions.length;
}
