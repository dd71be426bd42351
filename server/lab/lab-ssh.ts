/** The lab's SSH material: the key the lab logs in to devices with, their known_hosts file, and readiness checks. */
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from './lab-errors.js';
import { system } from './system-command.js';

const SSHD_READY_TIMEOUT_MS = 30_000;

/** Makes an ed25519 key pair without a passphrase at `path` (and `path.pub`). */
export async function generateKey(path: string, comment: string): Promise<void> {
  await system('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

/** Creates `id_ed25519` (the lab's login key) and `authorized_keys` holding its public half. */
export async function createLoginKey(dir: string, labName: string): Promise<string> {
  const keyPath = join(dir, 'id_ed25519');
  await generateKey(keyPath, `autotest-lab-${labName}`);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${keyPath}.pub`, 'utf8'), { mode: 0o600 });
  return keyPath;
}

/** Writes `known_hosts` with every device's host key under its address, so host keys are checked from the start. */
export async function writeKnownHosts(
  dir: string,
  entries: readonly { address: string; hostKeyPublic: string }[],
): Promise<string> {
  const path = join(dir, 'known_hosts');
  const lines = entries.map(({ address, hostKeyPublic }) => {
    const [type, key] = hostKeyPublic.split(/\s+/);
    return `${address} ${type} ${key}\n`;
  });
  await writeFile(path, lines.join(''), { mode: 0o644 });
  return path;
}

/** True once something on address:22 greets with an SSH banner. */
function sshBanner(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: 22, timeout: 2000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('data', (chunk: Buffer) => done(chunk.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** Polls each device's sshd through the management route; throws with the device's sshd log on failure. */
export async function waitForSshd(
  devices: readonly { name: string; address: string; logPath: string }[],
): Promise<void> {
  const deadline = Date.now() + SSHD_READY_TIMEOUT_MS;
  for (const device of devices) {
    while (!(await sshBanner(device.address))) {
      if (Date.now() > deadline) {
        const log = await readFile(device.logPath, 'utf8').catch(() => '(no log)');
        throw new LabError(
          'ERR_LAB_SETUP',
          `sshd of ${device.name} (${device.address}) did not answer within ${SSHD_READY_TIMEOUT_MS / 1000} s; end of ${device.logPath}:\n${log.slice(-1500)}`,
        );
      }
      await sleep(100);
    }
  }
}
