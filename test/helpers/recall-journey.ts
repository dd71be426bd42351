// Runs commands in a lab's server namespace (where Recall must run: its iptables rules live there) and takes
// snapshots of what Recall may change, on the server and on a device, to prove it all comes back.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createHost, type SSHHost } from '../../server/hosts/index.js';
import type { LabStatus } from '../../server/lab/lab.js';
import { repoRoot, type CliResult } from './cli.js';

export function startInServer(lab: LabStatus, command: string, args: string[]) {
  const child = spawn('ip', ['netns', 'exec', lab.serverNamespace, process.execPath, `${repoRoot}/bin/${command}.js`, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runInServer(lab: LabStatus, command: string, args: string[]): Promise<CliResult> {
  return startInServer(lab, command, args).done;
}

/** SSH options every command needs to reach the lab's devices. */
export function sshArgs(lab: LabStatus): string[] {
  return ['--ssh-key', lab.sshKey, '--known-hosts', lab.knownHosts];
}

/** What Recall changes on the server: its nat rules and the ICMP redirect sysctls. */
export function serverState(lab: LabStatus): { nat: string; sysctls: string } {
  const inServer = (...cmd: string[]) => execFileSync('ip', ['netns', 'exec', lab.serverNamespace, ...cmd], { encoding: 'utf8' });
  return {
    nat: inServer('iptables', '-w', '-t', 'nat', '-S'),
    sysctls: inServer('sh', '-c', 'for f in /proc/sys/net/ipv4/conf/*/send_redirects; do echo "$f=$(cat $f)"; done'),
  };
}

/** What RecallContext changes on a device: DNS, the default route and the trust stores. */
export async function deviceState(host: SSHHost): Promise<string> {
  const { stdout } = await host.run(
    'cat /etc/resolv.conf; ip route show default; ls /usr/local/share/ca-certificates; md5sum /etc/ssl/certs/ca-certificates.crt; ' +
      'certutil -L -d sql:$HOME/.pki/nssdb 2>/dev/null | sort; echo "NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS"',
  );
  return stdout;
}

export async function connect(lab: LabStatus, index = 0): Promise<SSHHost> {
  return createHost(lab.devices[index]!.address, { sshKey: lab.sshKey, knownHostsFile: lab.knownHosts });
}
