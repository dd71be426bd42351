/**
 * Finding the keys to log in with: the files given with `--ssh-key`, or the user's usual ones
 * (~/.ssh/id_ed25519, id_ecdsa, id_rsa), plus ssh-agent when SSH_AUTH_SOCK is set and no key was given.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { AuthMethod } from 'ssh2';
import { AutotestError } from '../../lib/errors.js';

const USUAL_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** Authentication methods to try in order. Throws `ERR_HOST_SSH_KEY` when a given key cannot be read or parsed. */
export async function loadAuthMethods(
  username: string,
  sshKeys: readonly string[] | undefined,
): Promise<AuthMethod[]> {
  const methods: AuthMethod[] = [];
  const explicit = sshKeys !== undefined;
  const files = sshKeys ?? USUAL_KEYS.map((name) => join(homedir(), '.ssh', name));
  for (const file of files) {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (error) {
      if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new AutotestError(
        'ERR_HOST_SSH_KEY',
        `Cannot read SSH key ${file}: ${(error as Error).message}; check the --ssh-key path`,
        { cause: error },
      );
    }
    const parsed = ssh2.utils.parseKey(data);
    if (parsed instanceof Error) {
      // An encrypted key among the usual ones is skipped (the agent may hold it); a key the user named must work.
      if (!explicit) continue;
      throw new AutotestError(
        'ERR_HOST_SSH_KEY',
        `Cannot use SSH key ${file}: ${parsed.message}; give an unencrypted private key in OpenSSH or PEM format`,
        { cause: parsed },
      );
    }
    methods.push({ type: 'publickey', username, key: data } as AuthMethod);
  }
  const agent = process.env.SSH_AUTH_SOCK;
  if (!explicit && agent) methods.push({ type: 'agent', username, agent } as AuthMethod);
  return methods;
}
