/**
 * packages.checksum in autotest's format: one `<md5><space><file name>` line per package. Reading also accepts
 * md5sum's two-space (and `*` binary) form, since autotest's `packager --all` wrote `md5sum * > packages.checksum`.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../fs-atomic.js';

/** File name to md5 hex. */
export type ChecksumMap = Map<string, string>;

const MD5_PATTERN = /^[0-9a-f]{32}$/;

export function parseChecksumFile(text: string): ChecksumMap {
  const map: ChecksumMap = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const match = /^(\S+)\s+\*?(.+)$/.exec(line);
    if (!match || !MD5_PATTERN.test(match[1]!.toLowerCase())) continue; // not a checksum line: ignore, as autotest does
    map.set(match[2]!, match[1]!.toLowerCase());
  }
  return map;
}

/** Lines sorted by file name so an unchanged repository gives an identical file. */
export function formatChecksumFile(map: ChecksumMap): string {
  const names = [...map.keys()].sort();
  return names.map((name) => `${map.get(name)} ${name}\n`).join('');
}

/** Reads a packages.checksum; a missing file is an empty map. */
export async function readChecksumFile(path: string): Promise<ChecksumMap> {
  try {
    return parseChecksumFile(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
}

export async function writeChecksumFile(path: string, map: ChecksumMap): Promise<void> {
  await writeFileAtomic(path, formatChecksumFile(map));
}

/** md5 hex of a file, streamed. */
export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function isMd5(value: string): boolean {
  return MD5_PATTERN.test(value);
}
