/**
 * Builds X.509 certificates: node-forge lays out the to-be-signed part (TBSCertificate), `node:crypto` signs it.
 * forge's own RSA signing is pure JavaScript (~25 ms); the native signature costs ~0.5 ms and runs on the thread
 * pool, so minting a leaf never blocks the event loop (research/deps.md §A). forge only knows RSA keys, so the
 * certified key goes in as the DER `node:crypto` exports: leaves can carry ECDSA keys, which make a TLS context
 * and a handshake several times cheaper than RSA ones.
 */
import { createHash, sign, randomBytes, type KeyObject } from 'node:crypto';
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
  /** The certified public key: RSA or EC. */
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** Extensions in node-forge's notation. */
  extensions: object[];
  /** The issuer's private key (the subject's own key for a self-signed root); RSA. */
  signingKey: KeyObject;
}

/** The signed certificate as PEM. */
export async function buildCertificate(spec: CertificateSpec): Promise<string> {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = uniqueSerialNumber();
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.publicKey = PLACEHOLDER_KEY; // replaced below by the real key's SubjectPublicKeyInfo
  cert.setSubject(spec.subject.map((a) => ({ ...a })));
  cert.setIssuer(spec.issuer.map((a) => ({ ...a })));
  cert.setExtensions(spec.extensions);
  cert.signatureOid = forge.pki.oids.sha256WithRSAEncryption ?? '1.2.840.113549.1.1.11';
  cert.siginfo.algorithmOid = cert.signatureOid;
  const tbs = (
    forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }
  ).getTBSCertificate(cert);
  (tbs.value as forge.asn1.Asn1[])[TBS_SUBJECT_PUBLIC_KEY_INFO] = subjectPublicKeyInfo(spec.publicKey);
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  const signature = await new Promise<Buffer>((resolve, reject) => {
    sign('sha256', tbsDer, spec.signingKey, (error, result) => (error ? reject(error) : resolve(result)));
  });
  cert.tbsCertificate = tbs;
  cert.signature = signature.toString('binary');
  return forge.pki.certificateToPem(cert);
}

/**
 * SHA-1 over the subjectPublicKey bits, the usual subject key identifier (RFC 5280 §4.2.1.2 method 1), as a binary
 * string (forge's form).
 */
export function subjectKeyIdentifier(publicKey: KeyObject): string {
  const bits = (subjectPublicKeyInfo(publicKey).value as forge.asn1.Asn1[])[1]!.value as string;
  return createHash('sha1').update(Buffer.from(bits.slice(1), 'binary')).digest('binary'); // skip the unused-bits byte
}

/**
 * The subjectKeyIdentifier extension for `publicKey`, written out: forge would compute its own from the key it
 * laid out, which here is only a placeholder.
 */
export function subjectKeyIdentifierExtension(publicKey: KeyObject): object {
  const { Class, Type } = forge.asn1;
  return { id: '2.5.29.14', value: forge.asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, subjectKeyIdentifier(publicKey)) };
}

/** Position of subjectPublicKeyInfo in the TBSCertificate forge lays out (after version, serial, signature,
 * issuer, validity and subject). */
const TBS_SUBJECT_PUBLIC_KEY_INFO = 6;

/** Any RSA key lets forge lay the TBSCertificate out; its place is then taken by the real key. */
const PLACEHOLDER_KEY = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3', 16), new forge.jsbn.BigInteger('3', 16));

/** Each key's SubjectPublicKeyInfo as forge ASN.1, exported once per key (a CA certifies one shared leaf key). */
const publicKeyInfos = new WeakMap<KeyObject, string>();

function subjectPublicKeyInfo(key: KeyObject): forge.asn1.Asn1 {
  let der = publicKeyInfos.get(key);
  if (der === undefined) {
    der = key.export({ type: 'spki', format: 'der' }).toString('binary');
    publicKeyInfos.set(key, der);
  }
  // Raw bit strings: forge would otherwise try to read the key bits as ASN.1 themselves.
  const fromDer = forge.asn1.fromDer as unknown as (der: string, options: { decodeBitStrings: boolean }) => forge.asn1.Asn1;
  return fromDer(der, { decodeBitStrings: false });
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
