/**
 * Fetches the Recall server's root certificate over plain HTTP (the device trusts no Recall certificate yet) and
 * keeps it only when its SHA-256 is the one the server sent over SSH in the control file: whatever else answers
 * on the network (a spoofed gateway, another host on the device network) cannot make the device trust its CA.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { get } from 'node:http';
import { reasonOf } from '../lib/errors.js';
import { RecallContextError } from './recall-context-error.js';

export interface RootCertificate {
  /** The certificate, PEM, ending in a newline. */
  readonly pem: string;
  /** SHA-256 of the DER, lower-case hex. */
  readonly sha256: string;
  readonly subject: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/;
const MAX_BYTES = 1024 * 1024;

function fail(url: string, problem: string, cause?: unknown): RecallContextError {
  return new RecallContextError('ERR_RECALL_CA_FETCH', `fetching the Recall root certificate from ${url} failed: ${problem}; check the Recall server runs and the device reaches it`, { cause });
}

function download(url: string, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers: { accept: 'application/x-pem-file' } }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BYTES) request.destroy(fail(url, `the answer is larger than ${MAX_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        if (response.statusCode !== 200) reject(fail(url, `HTTP ${response.statusCode}: ${body.toString('utf8', 0, 200).trim()}`));
        else resolve(body);
      });
      response.on('error', (error) => reject(fail(url, reasonOf(error), error)));
    });
    // One deadline for connecting and reading, so a silent server cannot hold the test.
    const timer = setTimeout(() => request.destroy(fail(url, `no complete answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('close', () => clearTimeout(timer));
    request.on('error', (error) => reject(error instanceof RecallContextError ? error : fail(url, reasonOf(error), error)));
  });
}

/** Lower-case hex without separators: `AB:CD:…` (as openssl prints it) and `abcd…` compare equal. */
export function normalizeSha256(fingerprint: string): string {
  return fingerprint.replace(/:/g, '').toLowerCase();
}

/**
 * GETs `url` and returns the first PEM certificate in the answer, which must be a CA certificate whose DER has
 * the SHA-256 `expectedSha256` (hex, colons allowed); any other certificate is refused (`ERR_RECALL_CA_MISMATCH`).
 */
export async function fetchRootCertificate(url: string, timeoutMs: number, expectedSha256: string): Promise<RootCertificate> {
  const body = await download(url, timeoutMs);
  const match = PEM_BLOCK.exec(body.toString('utf8'));
  if (!match) throw fail(url, `the answer (${body.length} bytes) holds no PEM certificate`);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(match[0]);
  } catch (error) {
    throw fail(url, `the PEM certificate cannot be read: ${reasonOf(error)}`, error);
  }
  if (!certificate.ca) throw fail(url, `the certificate for "${certificate.subject}" is not a CA certificate`);
  const sha256 = createHash('sha256').update(certificate.raw).digest('hex');
  const expected = normalizeSha256(expectedSha256);
  if (sha256 !== expected) {
    throw new RecallContextError(
      'ERR_RECALL_CA_MISMATCH',
      `refusing the certificate served at ${url} ("${certificate.subject.replace(/\n/g, ', ')}", SHA-256 ${sha256}): the Recall server's root has SHA-256 ${expected}; something other than Recall answered there`,
    );
  }
  return {
    pem: `${match[0].replace(/\r\n/g, '\n')}\n`,
    sha256,
    subject: certificate.subject.replace(/\n/g, ', '),
  };
}
