/**
 * Builds X.509 certificates: node-forge lays out the to-be-signed part (TBSCertificate), `node:crypto` signs it.
 * forge's own RSA signing is pure JavaScript (~25 ms); the native signature costs ~0.5 ms and runs on the thread
 * pool, so minting a leaf never blocks the event loop (research/deps.md §A).
 */
import { sign, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/** One distinguished-name attribute, e.g. `{ shortName: 'O', value: 'Test' }`. */
export interface NameAttribute {
  shortName?: string;
  name?: string;
  type?: string;
  value: string;
  /** ASN.1 string type of the value; kept when an issuer name is copied from a parsed certificate. */
  valueTagClass?: forge.asn1.Class;
}

export interface CertificateSpec {
  subject: readonly NameAttribute[];
  issuer: readonly NameAttribute[];
  /** The certified public key (RSA: forge lays out only RSA keys). */
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** Extensions in node-forge's notation. */
  extensions: object[];
  /** The issuer's private key (the subject's own key for a self-signed root). */
  signingKey: KeyObject;
}

/** The signed certificate as PEM. */
export async function buildCertificate(spec: CertificateSpec): Promise<string> {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = uniqueSerialNumber();
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.publicKey = forgePublicKey(spec.publicKey);
  cert.setSubject(spec.subject.map((a) => ({ ...a })));
  cert.setIssuer(spec.issuer.map((a) => ({ ...a })));
  cert.setExtensions(spec.extensions);
  cert.signatureOid = forge.pki.oids.sha256WithRSAEncryption ?? '1.2.840.113549.1.1.11';
  cert.siginfo.algorithmOid = cert.signatureOid;
  const tbs = (
    forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }
  ).getTBSCertificate(cert);
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  const signature = await new Promise<Buffer>((resolve, reject) => {
    sign('sha256', tbsDer, spec.signingKey, (error, result) => (error ? reject(error) : resolve(result)));
  });
  cert.tbsCertificate = tbs;
  cert.signature = signature.toString('binary');
  return forge.pki.certificateToPem(cert);
}

/** SHA-1 over the RSAPublicKey, the usual subject key identifier (RFC 5280 §4.2.1.2 method 1), as bytes. */
export function subjectKeyIdentifier(publicKey: KeyObject): string {
  return forge.pki
    .getPublicKeyFingerprint(forgePublicKey(publicKey), { md: forge.md.sha1.create() })
    .getBytes();
}

/**
 * 16 random bytes, first byte in 0x40-0x7f so the DER INTEGER is positive and minimally encoded. With 126 random
 * bits two certificates never share a serial, not even across runs sharing a persisted root (browsers reject
 * a second certificate with an issuer/serial pair they have seen).
 */
function uniqueSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes.toString('hex');
}

/** forge's form of each key seen, so a CA signing many leaves for one shared key converts it once. */
const forgePublicKeys = new WeakMap<KeyObject, forge.pki.PublicKey>();

function forgePublicKey(key: KeyObject): forge.pki.PublicKey {
  let converted = forgePublicKeys.get(key);
  if (!converted) {
    converted = forge.pki.publicKeyFromPem(key.export({ type: 'spki', format: 'pem' }).toString());
    forgePublicKeys.set(key, converted);
  }
  return converted;
}
