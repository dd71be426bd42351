/**
 * One lab device: a network namespace with its own mount and UTS namespaces, where a small init script mounts
 * the device's private files and keeps a real sshd running. Nothing a device does reaches the real machine's
 * /etc/resolv.conf, trust store, /root (with the NSS database Chromium reads), /tmp, /run or /usr/local (an
 * overlay whose upper layer is a tmpfs).
 *
 * The init gives the device its own boot id (bound over /proc/sys/kernel/random/boot_id) and a `reboot`
 * command that ends every process of the device but the init, which then "boots" it again with a new boot id:
 * enough for SSHHost.reboot() to see a real reboot cycle.
 */
import { spawn } from 'node:child_process';
import { chmod, cp, mkdir, open, readFile, writeFile, appendFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DevicePlan, LabPlan } from './lab-plan.js';
import { subjectHash } from './lab-ca.js';
import { system } from './system-command.js';
import { generateKey } from './lab-ssh.js';

export interface DeviceFiles {
  readonly dir: string;
  readonly hostKeyPublic: string;
}

function sshdConfig(dir: string, authorizedKeys: string): string {
  return [
    'Port 22',
    'ListenAddress 0.0.0.0',
    `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
    'PidFile none',
    `AuthorizedKeysFile .ssh/authorized_keys ${authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    // One SSHHost connection carries many parallel commands and transfers.
    'MaxSessions 64',
    'MaxStartups 64:30:128',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

function initScript(dir: string, device: DevicePlan): string {
  return `#!/bin/sh
# Init of lab device ${device.name}: runs in the device's own mount and UTS namespaces (see lab-device.ts).
set -e
D='${dir}'
echo $$ > "$D/init.pid"
hostname '${device.hostname}'
mount -t tmpfs -o mode=0755 lab-overlay "$D/overlay"
mkdir "$D/overlay/upper" "$D/overlay/work"
mount -t overlay lab-usr-local -o "lowerdir=/usr/local,upperdir=$D/overlay/upper,workdir=$D/overlay/work" /usr/local
mkdir -p /usr/local/autotest /usr/local/share/ca-certificates /usr/local/sbin
mount --bind "$D/autotest" /usr/local/autotest
mount --bind "$D/local-ca" /usr/local/share/ca-certificates
mount --bind "$D/ssl-certs" /etc/ssl/certs
mount --bind "$D/home" /root
mount -t tmpfs -o mode=1777 lab-tmp /tmp
mount -t tmpfs -o mode=0755 lab-run /run
mkdir -p /run/sshd /run/lock
resolv=$(readlink -f /etc/resolv.conf)
mkdir -p "$(dirname "$resolv")" && touch "$resolv"
mount --bind "$D/resolv.conf" "$resolv"
mount --bind "$D/boot_id" /proc/sys/kernel/random/boot_id
cp "$D/reboot" /usr/local/sbin/reboot && chmod 0755 /usr/local/sbin/reboot
set +e
while :; do
  cat /proc/sys/kernel/random/uuid > "$D/boot_id"
  /usr/sbin/sshd -D -e -f "$D/sshd_config"
  sleep 1
done
`;
}

function rebootScript(dir: string): string {
  return `#!/bin/sh
# Lab reboot: end every process of this device except its init, which starts sshd again with a new boot id.
init=$(cat '${dir}/init.pid')
self=$(readlink /proc/self/ns/mnt)
sync
for p in /proc/[0-9]*; do
  pid=\${p#/proc/}
  [ "$pid" = "$init" ] || [ "$pid" = "$$" ] && continue
  [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$self" ] && kill -KILL "$pid" 2>/dev/null
done
exit 0
`;
}

/** Writes the device's folder: host key, sshd configuration, resolver, trust store, home and install folders. */
export async function prepareDevice(
  plan: LabPlan,
  index: number,
  labDir: string,
  caCertPath: string,
): Promise<DeviceFiles> {
  const device = plan.devices[index]!;
  const dir = join(labDir, device.name);
  for (const sub of ['', 'overlay', 'autotest', 'local-ca', 'home', 'home/.ssh'])
    await mkdir(join(dir, sub), { recursive: true, mode: 0o755 });
  await chmod(join(dir, 'home/.ssh'), 0o700);
  await generateKey(join(dir, 'ssh_host_ed25519_key'), device.hostname);
  const authorizedKeys = join(labDir, 'authorized_keys');
  await writeFile(join(dir, 'sshd_config'), sshdConfig(dir, authorizedKeys));
  await writeFile(
    join(dir, 'resolv.conf'),
    `# lab ${plan.name}: the internet namespace's DNS server\nnameserver ${plan.dnsAddress}\n`,
  );
  await writeFile(join(dir, 'boot_id'), '');
  await writeFile(join(dir, 'init'), initScript(dir, device), { mode: 0o755 });
  await writeFile(join(dir, 'reboot'), rebootScript(dir), { mode: 0o755 });
  await cp(authorizedKeys, join(dir, 'home/.ssh/authorized_keys'));
  // The trust store: the machine's certificates plus the lab's public CA, as update-ca-certificates would leave it.
  const caPem = await readFile(caCertPath, 'utf8');
  await cp('/etc/ssl/certs', join(dir, 'ssl-certs'), { recursive: true, verbatimSymlinks: true });
  await writeFile(join(dir, 'ssl-certs/autotest-lab-public-ca.pem'), caPem);
  await symlink(
    'autotest-lab-public-ca.pem',
    join(dir, `ssl-certs/${await subjectHash(caCertPath)}.0`),
  ).catch(() => {
    // A certificate with the same subject hash is already there; the bundle below still carries ours.
  });
  await appendFile(join(dir, 'ssl-certs/ca-certificates.crt'), caPem);
  await writeFile(join(dir, 'local-ca/autotest-lab-public-ca.crt'), caPem);
  // Chromium on Linux ignores the system store: it trusts what root's NSS database (~/.pki/nssdb) holds.
  const nssDb = `sql:${join(dir, 'home/.pki/nssdb')}`;
  await mkdir(join(dir, 'home/.pki/nssdb'), { recursive: true, mode: 0o700 });
  await system('certutil', ['-N', '-d', nssDb, '--empty-password']);
  await system('certutil', [
    '-A',
    '-d',
    nssDb,
    '-t',
    'C,,',
    '-n',
    'autotest lab public CA',
    '-i',
    caCertPath,
  ]);
  const hostKeyPublic = (await readFile(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8')).trim();
  return { dir, hostKeyPublic };
}

/** Starts the device's init, detached, and returns its process id. */
export async function startDevice(plan: LabPlan, index: number, dir: string): Promise<number> {
  const device = plan.devices[index]!;
  const log = await open(join(dir, 'init.log'), 'a');
  try {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        device.namespace,
        'unshare',
        '--mount',
        '--uts',
        '--propagation',
        'private',
        'sh',
        join(dir, 'init'),
      ],
      {
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
      },
    );
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start ${device.name}'s init`);
    return child.pid;
  } finally {
    await log.close();
  }
}
