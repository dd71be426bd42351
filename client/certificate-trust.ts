/**
 * Makes a device trust a root certificate where its clients look, recording each change on an UndoStack:
 * the system store (Debian's update-ca-certificates: curl, OpenSSL, most tools) and an NSS database
 * (Chromium on Linux reads `~/.pki/nssdb` and ignores the system store).
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/logging.js';
import { deviceCommand } from './device-command.js';
import { FileTreeSnapshot } from './file-tree-snapshot.js';
import type { UndoStack } from './undo-stack.js';

export interface SystemStorePaths {
  /** Where local CA certificates go, one `.crt` each. @default '/usr/local/share/ca-certificates' */
  readonly localCertificatesDir: string;
  /** What update-ca-certificates rewrites (links, the bundle, the Java keystore). @default '/etc/ssl/certs' */
  readonly certsDir: string;
}

export interface TrustStep {
  readonly undo: UndoStack;
  readonly logger: Logger;
  readonly commandTimeoutMs: number;
}

/**
 * Adds `<localCertificatesDir>/<name>.crt` and makes the system store include it. Restoring removes the file and
 * puts `certsDir` back byte for byte from a snapshot taken before.
 *
 * Where `certsDir` has Debian's bundle and `openssl` is installed, it does what update-ca-certificates would do
 * for one certificate (append to the bundle, a `<name>.pem` link and its subject-hash link) in milliseconds;
 * the tool itself also runs every hook (the Java keystore takes ~10 s), on every iteration of a test.
 */
export async function trustInSystemStore(pem: string, name: string, paths: SystemStorePaths, step: TrustStep): Promise<void> {
  const file = join(paths.localCertificatesDir, `${name}.crt`);
  if (existsSync(file)) {
    step.logger.info({ file }, 'the root certificate is already in the system store: leaving it alone');
    return;
  }
  const snapshot = await FileTreeSnapshot.take(paths.certsDir);
  const created = await mkdir(paths.localCertificatesDir, { recursive: true, mode: 0o755 });
  if (created) step.undo.push(`remove ${created}`, () => rm(created, { recursive: true, force: true }));
  await writeFile(file, pem, { mode: 0o644, flag: 'wx' });
  step.undo.push(`remove ${file}`, () => rm(file, { force: true }));
  // Recorded before running: a run that fails halfway may already have rewritten part of certsDir.
  step.undo.push(`restore ${paths.certsDir} as it was`, () => snapshot.restore());
  const bundle = join(paths.certsDir, 'ca-certificates.crt');
  const hash = existsSync(bundle) ? await deviceCommand('openssl', ['x509', '-subject_hash', '-noout', '-in', file]).catch(() => undefined) : undefined;
  if (hash) {
    step.logger.info({ file, bundle }, 'adding the root certificate to the system bundle');
    await appendFile(bundle, pem.endsWith('\n') ? pem : `${pem}\n`);
    await symlink(file, join(paths.certsDir, `${name}.pem`));
    let n = 0;
    while (existsSync(join(paths.certsDir, `${hash.trim()}.${n}`))) n++;
    await symlink(`${name}.pem`, join(paths.certsDir, `${hash.trim()}.${n}`));
    return;
  }
  step.logger.info({ file }, 'running update-ca-certificates');
  await deviceCommand('update-ca-certificates', [], { timeoutMs: step.commandTimeoutMs });
}

/**
 * Adds the certificate to the NSS database in `dbDir` as a trusted CA for TLS servers (`C,,`), creating the
 * database (empty password) when there is none. Restoring puts the database files back byte for byte, or
 * removes what was created.
 */
export async function trustInNssDatabase(certFile: string, nickname: string, dbDir: string, step: TrustStep): Promise<void> {
  const db = `sql:${dbDir}`;
  if (existsSync(join(dbDir, 'cert9.db'))) {
    const snapshot = await FileTreeSnapshot.take(dbDir);
    step.undo.push(`restore the NSS database ${dbDir} as it was`, () => snapshot.restore());
  } else {
    const created = await mkdir(dbDir, { recursive: true, mode: 0o700 });
    // mkdir returns undefined when the folder existed (an NSS database folder without cert9.db).
    const remove = created ?? dbDir;
    const before = created ? undefined : await FileTreeSnapshot.take(dbDir);
    step.undo.push(`remove the NSS database created in ${remove}`, () => (before ? before.restore() : rm(remove, { recursive: true, force: true })));
    step.logger.info({ dbDir }, 'creating an NSS database');
    await deviceCommand('certutil', ['-N', '-d', db, '--empty-password'], { timeoutMs: step.commandTimeoutMs });
  }
  step.logger.info({ dbDir, nickname }, 'adding the root certificate to the NSS database');
  await deviceCommand('certutil', ['-A', '-d', db, '-t', 'C,,', '-n', nickname, '-i', certFile], { timeoutMs: step.commandTimeoutMs });
}
