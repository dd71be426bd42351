/**
 * `CertificateAuthority`: the root Recall's HTTPS side signs with, and the leaf certificates it mints per host.
 *
 * - The root persists in `dir` (see ca-files.ts), so recording and playback share it and a device trusts it once.
 * - One leaf key pair is made at open and shared by every leaf: a test CA only needs a certificate per name, and a
 *   shared key makes minting cost one signature (~0.5 ms) instead of an RSA key generation (~170 ms). It is ECDSA
 *   P-256: loading it into a TLS context and signing each handshake cost a fraction of what RSA-2048 costs.
 * - Leaves are named from SNI (an IP address gets an iPAddress subjectAltName), SHA-256, serverAuth, notBefore a
 *   day in the past (device clocks drift), at most 397 days valid (the browsers' limit), random 126-bit serials.
 * - Each name is minted once: concurrent first requests share one promise; a failure is not cached, so the next
 *   request tries again (the original blocked forever, research/recall.md §15 B5). Minting does no file I/O.
 *
 * @example
 * const ca = await CertificateAuthority.open('/O=Recall/CN=Recall Test Root', { dir: '/var/lib/recall/ca' });
 * const server = tls.createServer({ SNICallback: ca.sniCallback }, onConnection);
 */
import { createPublicKey, generateKeyPair, type KeyObject, type X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { isIP } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import { RecallError } from '../errors.js';
import { buildCertificate, subjectKeyIdentifier, type NameAttribute } from './certificate-builder.js';
import { loadOrCreateRoot, ROOT_CERT_FILE, ROOT_KEY_FILE } from './ca-files.js';
import { join } from 'node:path';
import forge from 'node-forge';

const DAY_MS = 24 * 60 * 60 * 1000;

const generateLeafKey = async (): Promise<KeyObject> =>
  (await promisify(generateKeyPair)('ec', { namedCurve: 'P-256' })).privateKey;
const SUBJECT_KEYS: Record<string, NameAttribute['shortName'] | { name: string }> = {
  C: 'C',
  ST: 'ST',
  L: 'L',
  O: 'O',
  OU: 'OU',
  CN: 'CN',
  EMAILADDRESS: { name: 'emailAddress' },
};

export interface CertificateAuthorityOptions {
  /** Folder holding the root key and certificate; created (mode 0700) when missing. */
  readonly dir: string;
  /** Validity of leaf certificates, in days, 1-397. @default 397 */
  readonly leafValidityDays?: number;
  /** Validity of a newly made root, in days. @default 3650 */
  readonly rootValidityDays?: number;
  readonly logger?: Logger;
}

/** A leaf certificate and its (shared) private key, both PEM. */
export interface LeafCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export class CertificateAuthority {
  /** The root certificate, PEM: what devices install. */
  readonly rootCertificatePem: string;
  /** The root certificate, DER. */
  readonly rootCertificateDer: Buffer;
  /** Path of the root certificate file (mode 0644). */
  readonly rootCertificateFile: string;
  /** Path of the root key file (mode 0600). */
  readonly rootKeyFile: string;
  /** True when `open` made a new root; false when it reused the folder's. */
  readonly createdRoot: boolean;
  /** For `tls.createServer({ SNICallback })`: answers each handshake with the leaf for its server name. */
  readonly sniCallback: (
    servername: string,
    callback: (error: Error | null, context?: SecureContext) => void,
  ) => void;

  readonly #rootKey: KeyObject;
  readonly #rootCert: X509Certificate;
  readonly #rootSubject: NameAttribute[];
  readonly #rootKeyId: string;
  /** The leaf key's public half, made once: every leaf certifies it (bench/: ~0.5 ms a mint when made each time). */
  readonly #leafPublicKey: KeyObject;
  readonly #leafKeyPem: string;
  readonly #leafValidityDays: number;
  readonly #logger: Logger;
  readonly #leaves = new Map<string, Promise<LeafCertificate>>();
  readonly #contexts = new Map<string, Promise<SecureContext>>();

  private constructor(
    root: Awaited<ReturnType<typeof loadOrCreateRoot>>,
    leafKey: KeyObject,
    options: CertificateAuthorityOptions,
    logger: Logger,
  ) {
    this.rootCertificatePem = root.certPem;
    this.rootCertificateDer = Buffer.from(root.cert.raw);
    this.rootCertificateFile = join(options.dir, ROOT_CERT_FILE);
    this.rootKeyFile = join(options.dir, ROOT_KEY_FILE);
    this.createdRoot = root.created;
    this.#rootKey = root.key;
    this.#rootCert = root.cert;
    // The issuer must repeat the root's subject exactly (same attribute string types), so take it from the root itself.
    this.#rootSubject = forge.pki
      .certificateFromPem(root.certPem)
      .subject.attributes.map((a) => ({ ...a, value: String(a.value) }));
    this.#rootKeyId = subjectKeyIdentifier(createPublicKey(root.key));
    this.#leafPublicKey = createPublicKey(leafKey);
    this.#leafKeyPem = leafKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    this.#leafValidityDays = options.leafValidityDays ?? 397;
    this.#logger = logger;
    this.sniCallback = (servername, callback) => {
      this.secureContextFor(servername).then(
        (context) => callback(null, context),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    };
  }

  /**
   * Opens the CA in `options.dir`: reuses the root found there, or makes one with `subject` (OpenSSL syntax,
   * `/O=Google/OU=Chromium OS Test Server`; a `CN` is added when missing), and makes the shared leaf key.
   * A reused root keeps its own subject. Throws `RecallError` `ERR_CA_*`.
   */
  static async open(subject: string, options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const logger = (options.logger ?? silentLogger).child({ component: 'ca' });
    const attributes = parseOpenSslSubject(subject);
    if (!attributes.some((a) => a.shortName === 'CN'))
      attributes.push({ shortName: 'CN', value: 'Recall Test Root CA' });
    const leafDays = options.leafValidityDays ?? 397;
    if (!Number.isInteger(leafDays) || leafDays < 1 || leafDays > 397) {
      throw new RecallError(
        'ERR_CA_INVALID_OPTION',
        `CertificateAuthority: expected leafValidityDays to be an integer 1-397 (browsers refuse longer), got ${String(options.leafValidityDays)}`,
      );
    }
    const [root, leafKey] = await Promise.all([
      loadOrCreateRoot(options.dir, attributes, options.rootValidityDays ?? 3650),
      generateLeafKey(),
    ]);
    logger.info(
      {
        dir: options.dir,
        created: root.created,
        subject: root.cert.subject.replace(/\n/g, ', '),
        validTo: root.cert.validTo,
      },
      root.created ? 'made a new root' : 'reusing the root',
    );
    return new CertificateAuthority(root, leafKey, options, logger);
  }

  /** The leaf certificate for a host name or IP address (SNI form; a trailing dot and case are ignored). */
  certificateFor(hostname: string): Promise<LeafCertificate> {
    let name: string;
    try {
      name = normalizeCertificateName(hostname);
    } catch (error) {
      return Promise.reject(error);
    }
    let leaf = this.#leaves.get(name);
    if (!leaf) {
      leaf = this.#mint(name);
      this.#leaves.set(name, leaf);
      leaf.catch(() => this.#leaves.delete(name)); // failures are not cached: the next request tries again
    }
    return leaf;
  }

  /** A TLS secure context serving the leaf for `servername`, cached per name. */
  secureContextFor(servername: string): Promise<SecureContext> {
    let name: string;
    try {
      name = normalizeCertificateName(servername);
    } catch (error) {
      return Promise.reject(error);
    }
    let context = this.#contexts.get(name);
    if (!context) {
      context = this.certificateFor(name).then((leaf) =>
        createSecureContext({ key: leaf.keyPem, cert: leaf.certPem }),
      );
      this.#contexts.set(name, context);
      context.catch(() => this.#contexts.delete(name));
    }
    return context;
  }

  /** Same as `secureContextFor`: the name the HTTPS server's `LeafCertificateSource` interface expects. */
  contextFor(servername: string): Promise<SecureContext> {
    return this.secureContextFor(servername);
  }

  async #mint(name: string): Promise<LeafCertificate> {
    const ip = isIP(name) !== 0;
    const notBefore = new Date(Date.now() - DAY_MS);
    const notAfter = new Date(
      Math.min(notBefore.getTime() + this.#leafValidityDays * DAY_MS, Date.parse(this.#rootCert.validTo)),
    );
    const subject: NameAttribute[] = name.length <= 64 ? [{ shortName: 'CN', value: name }] : [];
    try {
      const certPem = await buildCertificate({
        subject,
        issuer: this.#rootSubject,
        publicKey: this.#leafPublicKey,
        notBefore,
        notAfter,
        signingKey: this.#rootKey,
        extensions: [
          { name: 'basicConstraints', cA: false, critical: true },
          { name: 'keyUsage', digitalSignature: true, critical: true }, // ECDSA keys only sign
          { name: 'extKeyUsage', serverAuth: true },
          // With an empty subject the SAN must be critical (RFC 5280 §4.2.1.6).
          {
            name: 'subjectAltName',
            altNames: [ip ? { type: 7, ip: name } : { type: 2, value: name }],
            critical: subject.length === 0,
          },
          { name: 'authorityKeyIdentifier', keyIdentifier: this.#rootKeyId },
        ],
      });
      this.#logger.debug({ name }, 'minted a leaf certificate');
      return { certPem, keyPem: this.#leafKeyPem };
    } catch (error) {
      this.#logger.error({ err: error, name }, 'minting a leaf certificate failed');
      throw new RecallError(
        'ERR_CA_SIGN',
        `signing the certificate for ${name} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Forgets minted leaves. The root files stay: they are the point of `dir`. Idempotent. */
  async close(): Promise<void> {
    this.#leaves.clear();
    this.#contexts.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Lower case, no trailing dot, IPv6 without brackets; throws `ERR_CA_INVALID_HOSTNAME` for unusable names. */
export function normalizeCertificateName(hostname: string): string {
  let name = String(hostname).trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (isIP(name) !== 0) return name;
  if (name.endsWith('.')) name = name.slice(0, -1);
  const label = '[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?';
  const valid = new RegExp(`^(\\*\\.)?${label}(\\.${label})*$`);
  if (name.length === 0 || name.length > 253 || !valid.test(name)) {
    throw new RecallError(
      'ERR_CA_INVALID_HOSTNAME',
      `cannot make a certificate for ${JSON.stringify(hostname)}: expected a DNS name (letters, digits, '-', '_', at most 253 characters) or an IP address`,
    );
  }
  return name;
}

/** Parses `/O=Google/OU=Chromium OS Test Server` into name attributes. */
export function parseOpenSslSubject(subject: string): NameAttribute[] {
  const parts = subject.split('/').slice(1);
  const attributes: NameAttribute[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = SUBJECT_KEYS[part.slice(0, Math.max(eq, 0)).trim().toUpperCase()];
    const value = part.slice(eq + 1).trim();
    if (!subject.startsWith('/') || eq <= 0 || key === undefined || value === '') {
      throw new RecallError(
        'ERR_CA_SUBJECT',
        `cannot parse the CA subject ${JSON.stringify(subject)} at ${JSON.stringify(part)}: expected /KEY=value/… with KEY one of C, ST, L, O, OU, CN, emailAddress`,
      );
    }
    attributes.push(typeof key === 'string' ? { shortName: key, value } : { name: key.name, value });
  }
  if (attributes.length === 0) {
    throw new RecallError(
      'ERR_CA_SUBJECT',
      `the CA subject ${JSON.stringify(subject)} is empty; give at least one attribute, e.g. "/O=Recall Test"`,
    );
  }
  return attributes;
}
