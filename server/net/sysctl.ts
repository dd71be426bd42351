/**
 * Reads and writes sysctls through /proc/sys (net.* ones in the current network namespace). Keys use
 * slashes (`net/ipv4/conf/eth0.100/send_redirects`) because interface names may contain dots.
 */
import { readFile, writeFile } from 'node:fs/promises';

export async function readSysctl(key: string): Promise<string> {
  return (await readFile(`/proc/sys/${key}`, 'utf8')).trim();
}

export async function writeSysctl(key: string, value: string): Promise<void> {
  await writeFile(`/proc/sys/${key}`, `${value}\n`);
}
