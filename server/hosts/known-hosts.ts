/**
 * Checking host keys against OpenSSH known_hosts files: plain and hashed (`|1|salt|hash`) host fields,
 * comma-separated patterns with `*`/`?` wildcards and `!` negation, `[host]:port` names, and `@revoked` lines.
 * `@cert-authority` lines are skipped: we do not check host certificates.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { knownHostsName } from './machine-name.js';

export type HostKeyVerdict =
  | { readonly kind: 'match' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'mismatch'; readonly file: string; readonly line: number }
  | { readonly kind: 'revoked'; readonly file: string; readonly line: number };

interface Entry {
  readonly file: string;
  readonly line: number;
  readonly marker?: string;
  readonly hosts: string;
  readonly keyType: string;
  readonly keyBase64: string;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** OpenSSH's `SHA256:…` fingerprint of a key blob. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function wildcardMatch(pattern: string, name: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(name);
}

function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

function parse(file: string, text: string): Entry[] {
  const entries: Entry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) return;
    entries.push({ file, line: index + 1, hosts, keyType, keyBase64, ...(marker ? { marker } : {}) });
  });
  return entries;
}

/** The known_hosts files of one host check, read once. */
export class KnownHosts {
  private constructor(private readonly entries: readonly Entry[]) {}

  /** Reads the files that exist; missing files count as empty. */
  static async load(files: readonly string[]): Promise<KnownHosts> {
    const entries: Entry[] = [];
    for (const file of files) {
      try {
        entries.push(...parse(file, await readFile(file, 'utf8')));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return new KnownHosts(entries);
  }

  private entriesFor(host: string, port: number): Entry[] {
    const name = knownHostsName(host, port);
    return this.entries.filter(
      (entry) => entry.marker !== '@cert-authority' && hostFieldMatches(entry.hosts, name),
    );
  }

  /** Key types recorded for the host, so the handshake can ask for one of them first. */
  keyTypesFor(host: string, port: number): string[] {
    return [
      ...new Set(
        this.entriesFor(host, port)
          .filter((e) => !e.marker)
          .map((e) => e.keyType),
      ),
    ];
  }

  /** Compares a presented key blob with the host's entries, as OpenSSH does. */
  check(host: string, port: number, blob: Buffer): HostKeyVerdict {
    const presented = blob.toString('base64');
    const entries = this.entriesFor(host, port);
    const revoked = entries.find((e) => e.marker === '@revoked' && e.keyBase64 === presented);
    if (revoked) return { kind: 'revoked', file: revoked.file, line: revoked.line };
    const plain = entries.filter((e) => !e.marker);
    if (plain.some((e) => e.keyBase64 === presented)) return { kind: 'match' };
    const type = keyTypeOf(blob);
    const sameType = plain.find((e) => e.keyType === type) ?? plain[0];
    if (sameType) return { kind: 'mismatch', file: sameType.file, line: sameType.line };
    return { kind: 'unknown' };
  }
}

/** Appends `name type base64` to a known_hosts file (creating it and its folder), as `ssh -o StrictHostKeyChecking=accept-new` does. */
export async function addKnownHost(file: string, host: string, port: number, blob: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, `${knownHostsName(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`, {
    mode: 0o600,
  });
}
