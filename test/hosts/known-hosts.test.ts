import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addKnownHost, fingerprintOf, KnownHosts, keyTypeOf } from '../../server/hosts/known-hosts.js';

/** A fake ed25519 public key blob: type string then 32 key bytes, as in the SSH wire format. */
function blob(seed: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const key = Buffer.alloc(32, seed);
  const out = Buffer.alloc(4 + type.length + 4 + key.length);
  out.writeUInt32BE(type.length, 0);
  type.copy(out, 4);
  out.writeUInt32BE(key.length, 4 + type.length);
  key.copy(out, 8 + type.length);
  return out;
}
const line = (hosts: string, key: Buffer): string => `${hosts} ssh-ed25519 ${key.toString('base64')}`;

describe('KnownHosts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'known-hosts-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function load(text: string): Promise<KnownHosts> {
    await writeFile(join(dir, 'known_hosts'), text);
    return KnownHosts.load([join(dir, 'known_hosts'), join(dir, 'missing')]);
  }

  it('matches plain, listed and wildcard host fields', async () => {
    const known = await load(
      [line('a.lab,198.18.1.2', blob(1)), line('*.wild.lab', blob(2)), '# comment', ''].join('\n'),
    );
    expect(known.check('198.18.1.2', 22, blob(1))).toEqual({ kind: 'match' });
    expect(known.check('x.wild.lab', 22, blob(2))).toEqual({ kind: 'match' });
    expect(known.check('other', 22, blob(1))).toEqual({ kind: 'unknown' });
  });

  it('matches hashed host fields and [host]:port names', async () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[198.18.1.2]:2222').digest('base64');
    const known = await load(line(`|1|${salt.toString('base64')}|${hash}`, blob(3)));
    expect(known.check('198.18.1.2', 2222, blob(3))).toEqual({ kind: 'match' });
    expect(known.check('198.18.1.2', 22, blob(3))).toEqual({ kind: 'unknown' });
  });

  it('reports a different key with the file and line of the recorded one', async () => {
    const known = await load(['# first line', line('198.18.1.2', blob(1))].join('\n'));
    expect(known.check('198.18.1.2', 22, blob(9))).toEqual({
      kind: 'mismatch',
      file: join(dir, 'known_hosts'),
      line: 2,
    });
  });

  it('refuses @revoked keys and honours negated patterns', async () => {
    const known = await load(
      [`@revoked * ssh-ed25519 ${blob(5).toString('base64')}`, line('*.lab,!bad.lab', blob(6))].join('\n'),
    );
    expect(known.check('any', 22, blob(5)).kind).toBe('revoked');
    expect(known.check('good.lab', 22, blob(6)).kind).toBe('match');
    expect(known.check('bad.lab', 22, blob(6)).kind).toBe('unknown');
  });

  it('appends new keys in OpenSSH format', async () => {
    const file = join(dir, 'sub', 'known_hosts');
    await addKnownHost(file, '198.18.1.3', 2200, blob(7));
    expect(await readFile(file, 'utf8')).toBe(
      `[198.18.1.3]:2200 ssh-ed25519 ${blob(7).toString('base64')}\n`,
    );
    expect((await KnownHosts.load([file])).check('198.18.1.3', 2200, blob(7)).kind).toBe('match');
    expect(keyTypeOf(blob(7))).toBe('ssh-ed25519');
    expect(fingerprintOf(blob(7))).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
