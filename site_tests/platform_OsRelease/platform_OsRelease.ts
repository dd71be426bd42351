import { readFile } from 'node:fs/promises';
import { hostname, release } from 'node:os';
import { Test, TestFail } from 'autotest/client';

function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) out[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
  }
  return out;
}

/**
 * Reads what the device says about itself (/etc/os-release, its hostname, kernel and boot id) and checks it
 * is consistent: the OS has a name and an ID, and the hostname the kernel reports is the one `hostname()` sees.
 */
export class platform_OsRelease extends Test<{ expectId?: string }> {
  async runOnce({ expectId }: { expectId?: string }): Promise<void> {
    const os = parseOsRelease(await readFile('/etc/os-release', 'utf8'));
    if (!os.ID || !os.PRETTY_NAME) throw new TestFail('/etc/os-release has no ID or PRETTY_NAME');
    if (expectId && os.ID !== expectId) throw new TestFail(`expected OS ID ${expectId}, the device runs ${os.ID}`);
    const kernelHostname = (await readFile('/proc/sys/kernel/hostname', 'utf8')).trim();
    if (kernelHostname !== hostname()) throw new TestFail(`kernel hostname ${kernelHostname} differs from ${hostname()}`);
    const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    await this.writeKeyval({ os_id: os.ID, os_version: os.VERSION_ID ?? '', hostname: kernelHostname, kernel: release(), boot_id: bootId });
    this.logger.info({ os: os.PRETTY_NAME, hostname: kernelHostname }, 'device identity');
  }
}
