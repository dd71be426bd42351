// Installs the peers from Debian's packages when they are missing. The -light/-base variants hold the same
// binaries without service units, and policy-rc.d (created only for the install when absent) stops Debian from
// starting nginx or dnsmasq as system services: every peer here is started by the benchmark, on loopback only.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';

const PEERS = [
  { binary: 'mitmdump', pkg: 'mitmproxy' },
  { binary: 'nginx', pkg: 'nginx-light' },
  { binary: 'dnsmasq', pkg: 'dnsmasq-base' },
  { binary: 'dnsperf', pkg: 'dnsperf' },
  { binary: 'wrk', pkg: 'wrk' },
  { binary: 'ssh', pkg: 'openssh-client' },
];

function has(binary) {
  try {
    execFileSync('sh', ['-c', `command -v ${binary} || test -x /usr/sbin/${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Returns the versions of the peers, installing missing ones with apt-get first. */
export function ensurePeers(log) {
  const missing = PEERS.filter((p) => !has(p.binary)).map((p) => p.pkg);
  if (missing.length > 0) {
    log(`installing ${missing.join(' ')} with apt-get`);
    const policy = '/usr/sbin/policy-rc.d';
    const madePolicy = !existsSync(policy);
    if (madePolicy)
      writeFileSync(policy, '#!/bin/sh\n# written by bench/lib/peers.js for the install only\nexit 101\n', {
        mode: 0o755,
      });
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      try {
        execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
          stdio: 'inherit',
          env,
        });
      } catch {
        execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
        execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
          stdio: 'inherit',
          env,
        });
      }
    } finally {
      if (madePolicy) rmSync(policy, { force: true });
    }
  }
  const version = (pkg) => {
    try {
      return execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return Object.fromEntries(PEERS.map((p) => [p.pkg, version(p.pkg)]));
}
