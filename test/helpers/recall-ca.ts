// A Recall certificate authority in its own temporary folder for one test file: opened before its tests, closed and
// removed after them. Call at the top of a describe; the returned function gives the CA inside tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { CertificateAuthority } from '../../lib/recall/index.js';

export function useRecallCa(prefix: string, subject = '/O=Recall Test'): () => CertificateAuthority {
  let dir: string | undefined;
  let ca: CertificateAuthority | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    ca = await CertificateAuthority.open(subject, { dir: join(dir, 'ca') });
  });
  afterAll(async () => {
    await ca?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (!ca) throw new Error('useRecallCa: the CA exists inside tests and hooks, not while the file is collected');
    return ca;
  };
}
