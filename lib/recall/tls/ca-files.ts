/**
 * The root of Recall's certificate authority on disk: `root-ca.key` (PKCS#8 PEM, mode 0600) and `root-ca.pem`
 * (mode 0644) in the CA folder. Reused when present, so a recording and its playbacks share one root and a
 * device needs to trust it only once; made when both are absent; refused with a clear error otherwise.
 * Only `CertificateAuthority.open` touches these files; nothing here runs on a connection's path.
 */
import { chmod, link, mkdir, open, readFile, rm } from 'node:fs/promises';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../../fs-atomic.js';
import { RecallError } from '../errors.js';
import { buildCertificate, subjectKeyIdentifierExtension, type NameAttribute } from './certificate-builder.js';

export const ROOT_KEY_FILE = 'root-ca.key';
export const ROOT_CERT_FILE = 'root-ca.pem';
const DAY_MS = 24 * 60 * 60 * 1000;

export interface RootMaterial {
  key: KeyObject;
  certPem: string;
  cert: X509Certificate;
  /** True when this call made the root (false: loaded from the folder). */
  created: boolean;
}

export const generateRsaKey = async (): Promise<KeyObject> =>
  (await promisify(generateKeyPair)('rsa', { modulusLength: 2048 })).privateKey;

/** Loads the root from `dir`, or makes and saves one with `subject` when the folder holds neither file. */
export async function loadOrCreateRoot(
  dir: string,
  subject: readonly NameAttribute[],
  validityDays: number,
): Promise<RootMaterial> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new RecallError(
      'ERR_CA_WRITE',
      `cannot create the CA folder ${dir}: ${(error as Error).message}; pass a writable dir`,
      { cause: error },
    );
  }
  const keyPath = join(dir, ROOT_KEY_FILE);
  const certPath = join(dir, ROOT_CERT_FILE);
  // A concurrent open of the same folder may be between writing the key and the certificate: poll briefly.
  for (let attempt = 0; ; attempt += 1) {
    const [keyPem, certPem] = await Promise.all([readIfPresent(keyPath), readIfPresent(certPath)]);
    if (keyPem !== undefined && certPem !== undefined)
      return { ...parseRoot(keyPem, certPem, keyPath, certPath), created: false };
    if (keyPem === undefined && certPem === undefined) {
      const made = await createRoot(subject, validityDays);
      if (await publishExclusive(keyPath, made.keyPem, 0o600)) {
        await writeFileAtomic(certPath, made.certPem, { mode: 0o644 }).catch((error: unknown) => {
          throw new RecallError('ERR_CA_WRITE', `cannot write ${certPath}: ${(error as Error).message}`, {
            cause: error,
          });
        });
        await chmod(certPath, 0o644); // the mode given at creation is reduced by the umask
        return { ...parseRoot(made.keyPem, made.certPem, keyPath, certPath), created: true };
      }
      continue; // another process published its key first: use its root
    }
    if (attempt >= 10) {
      const [present, missing] = keyPem === undefined ? [certPath, keyPath] : [keyPath, certPath];
      throw new RecallError(
        'ERR_CA_FILES_MISMATCH',
        `${present} exists but ${missing} does not; restore the missing file, or delete ${present} to make a new root (devices must then trust the new one)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RecallError(
      'ERR_CA_FILES_UNREADABLE',
      `cannot read ${path}: ${(error as Error).message}; fix its permissions or run as its owner`,
      { cause: error },
    );
  }
}

function parseRoot(
  keyPem: string,
  certPem: string,
  keyPath: string,
  certPath: string,
): Omit<RootMaterial, 'created'> {
  let key: KeyObject;
  let cert: X509Certificate;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    throw new RecallError(
      'ERR_CA_FILES_UNREADABLE',
      `${keyPath} is not a PEM private key (${(error as Error).message}); restore it or delete both root files`,
      { cause: error },
    );
  }
  try {
    cert = new X509Certificate(certPem);
  } catch (error) {
    throw new RecallError(
      'ERR_CA_FILES_UNREADABLE',
      `${certPath} is not a PEM certificate (${(error as Error).message}); restore it or delete both root files`,
      { cause: error },
    );
  }
  if (!cert.checkPrivateKey(key)) {
    throw new RecallError(
      'ERR_CA_FILES_MISMATCH',
      `${keyPath} is not the key of ${certPath} (${cert.subject.replace(/\n/g, ', ')}); restore the matching pair or delete both`,
    );
  }
  if (key.asymmetricKeyType !== 'rsa' || !cert.ca) {
    throw new RecallError(
      'ERR_CA_FILES_MISMATCH',
      `${certPath} is not an RSA CA certificate (type ${String(key.asymmetricKeyType)}, CA ${String(cert.ca)}); delete both root files to make a new root`,
    );
  }
  if (Date.parse(cert.validTo) < Date.now() + DAY_MS) {
    throw new RecallError(
      'ERR_CA_EXPIRED',
      `${certPath} expires ${cert.validTo}; delete both root files to make a new root (devices must then trust it)`,
    );
  }
  return { key, certPem, cert };
}

async function createRoot(
  subject: readonly NameAttribute[],
  validityDays: number,
): Promise<{ keyPem: string; certPem: string }> {
  const key = await generateRsaKey();
  const publicKey = createPublicKey(key);
  const notBefore = new Date(Date.now() - DAY_MS);
  const certPem = await buildCertificate({
    subject,
    issuer: subject,
    publicKey,
    notBefore,
    notAfter: new Date(notBefore.getTime() + validityDays * DAY_MS),
    signingKey: key,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      subjectKeyIdentifierExtension(publicKey),
    ],
  });
  return { keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(), certPem };
}

/** Writes `data` to `path` only if `path` does not exist yet (temp file + hard link, atomic). False if it exists. */
async function publishExclusive(path: string, data: string, mode: number): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new RecallError(
      'ERR_CA_WRITE',
      `cannot write ${path}: ${(error as Error).message}; pass a writable dir`,
      { cause: error },
    );
  } finally {
    await rm(temp, { force: true });
  }
}
