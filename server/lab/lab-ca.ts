/**
 * The lab's "public" certificate authority: the CA the lab's origin sites are signed by, standing in for the
 * public web PKI. Devices trust it the way real devices trust public roots. Made with the openssl command line
 * (ECDSA P-256), independent of Recall's own CA, which plays the interceptor.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { system } from './system-command.js';

export interface LabCertificates {
  readonly caCertPath: string;
  readonly caKeyPath: string;
  /** One leaf certificate naming every site (SNI picks nothing: one certificate serves all names). */
  readonly siteCertPath: string;
  readonly siteKeyPath: string;
}

export async function createLabCertificates(
  dir: string,
  labName: string,
  siteNames: readonly string[],
): Promise<LabCertificates> {
  const caKeyPath = join(dir, 'public-ca.key');
  const caCertPath = join(dir, 'public-ca.pem');
  const siteKeyPath = join(dir, 'sites.key');
  const siteCertPath = join(dir, 'sites.pem');
  const csrPath = join(dir, 'sites.csr');
  const extPath = join(dir, 'sites.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await system('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    caKeyPath,
    '-out',
    caCertPath,
    '-days',
    '3650',
    '-sha256',
    '-subj',
    `/O=Autotest Lab/CN=Autotest Lab Public CA (${labName})`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await system('openssl', [
    'req',
    ...ec,
    '-keyout',
    siteKeyPath,
    '-out',
    csrPath,
    '-subj',
    `/O=Autotest Lab/CN=${siteNames[0] ?? 'lab.test'}`,
  ]);
  await writeFile(
    extPath,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${siteNames.map((name) => `DNS:${name}`).join(',')}`,
      '',
    ].join('\n'),
  );
  // 397 days: within the limit browsers apply to server certificates.
  await system('openssl', [
    'x509',
    '-req',
    '-in',
    csrPath,
    '-CA',
    caCertPath,
    '-CAkey',
    caKeyPath,
    '-set_serial',
    `0x${Date.now().toString(16)}`,
    '-days',
    '397',
    '-sha256',
    '-extfile',
    extPath,
    '-out',
    siteCertPath,
  ]);
  return { caCertPath, caKeyPath, siteCertPath, siteKeyPath };
}

/** The subject hash OpenSSL looks certificates up by in a hashed folder such as /etc/ssl/certs (`<hash>.0`). */
export async function subjectHash(certPath: string): Promise<string> {
  return (await system('openssl', ['x509', '-noout', '-subject_hash', '-in', certPath])).trim();
}
