// Real fixtures for the HTTP half's tests: a throwaway CA (node:crypto keys, node-forge certificates), origin
// servers on 127.0.0.1 port 0 that count their connections, and curl / fetch clients that reach our servers for
// any host name (curl --connect-to, an undici connector), as iptables REDIRECT would in a lab.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import forge from 'node-forge';
import { Agent, buildConnector } from 'undici';

export interface TestCa {
  pem: string;
  issue(name: string): { key: string; cert: string };
  source: { secureContextFor(name: string): Promise<tls.SecureContext> };
}

function keyPair(): { forgeKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem);
  return { forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem };
}

function certificate(subject: string, publicKey: forge.pki.rsa.PublicKey): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: subject }]);
  return cert;
}

export function createTestCa(cn = 'Recall Test CA'): TestCa {
  const root = keyPair();
  const rootCert = certificate(cn, root.publicKey);
  rootCert.setIssuer(rootCert.subject.attributes);
  rootCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  rootCert.sign(root.forgeKey, forge.md.sha256.create());
  const leafKey = keyPair();
  const contexts = new Map<string, Promise<tls.SecureContext>>();
  const issue = (name: string): { key: string; cert: string } => {
    const cert = certificate(name, leafKey.publicKey);
    cert.setIssuer(rootCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [isIP(name) ? { type: 7, ip: name } : { type: 2, value: name }] },
    ]);
    cert.sign(root.forgeKey, forge.md.sha256.create());
    return { key: leafKey.pem, cert: forge.pki.certificateToPem(cert) };
  };
  const pem = forge.pki.certificateToPem(rootCert);
  return {
    pem,
    issue,
    source: {
      secureContextFor(name) {
        let context = contexts.get(name);
        if (!context) {
          context = Promise.resolve(tls.createSecureContext(issue(name)));
          contexts.set(name, context);
        }
        return context;
      },
    },
  };
}

/** Resolves every name to 127.0.0.1, whatever family is asked. */
export const loopbackLookup: LookupFunction = ((
  _host: string,
  options: { all?: boolean },
  callback: (...args: unknown[]) => void,
) => {
  if (options?.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
}) as unknown as LookupFunction;

export interface Origin {
  port: number;
  connections: number;
  requests: number;
  close(): Promise<void>;
}

/** A real origin server on 127.0.0.1:0; HTTPS when given a key and certificate. */
export async function startOrigin(
  handler: http.RequestListener,
  tlsOptions?: { key: string; cert: string },
): Promise<Origin> {
  const server = tlsOptions ? https.createServer(tlsOptions) : http.createServer();
  const origin: Origin = {
    port: 0,
    connections: 0,
    requests: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  server.on(tlsOptions ? 'secureConnection' : 'connection', () => origin.connections++);
  server.on('request', (req, res) => {
    origin.requests++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin.port = (server.address() as { port: number }).port;
  return origin;
}

export interface CurlResult {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

/** Runs curl against `url`, connecting to 127.0.0.1:`port` whatever the URL names (like a REDIRECT rule). */
export async function curl(url: string, port: number, extra: string[] = []): Promise<CurlResult> {
  const dir = await mkdtemp(join(tmpdir(), 'recall-curl-'));
  try {
    const u = new URL(url);
    const urlPort = u.port || (u.protocol === 'https:' ? '443' : '80');
    const args = [
      '-sS',
      '--max-time',
      '20',
      '--connect-to',
      `${u.hostname}:${urlPort}:127.0.0.1:${port}`,
      '-D',
      join(dir, 'h'),
      '-o',
      join(dir, 'b'),
      ...extra,
      url,
    ];
    await new Promise<void>((resolve, reject) =>
      execFile('curl', args, (error, _out, stderr) =>
        error ? reject(new Error(`curl ${args.join(' ')}: ${stderr}`)) : resolve(),
      ),
    );
    const head = (await readFile(join(dir, 'h'), 'latin1')).split('\r\n\r\n').filter(Boolean).pop() ?? '';
    const [statusLine = '', ...lines] = head.split('\r\n');
    const headers = lines.filter(Boolean).map((line): [string, string] => {
      const at = line.indexOf(':');
      return [line.slice(0, at), line.slice(at + 1).trim()];
    });
    return {
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: await readFile(join(dir, 'b')).catch(() => Buffer.alloc(0)),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An undici Agent that trusts `ca` and dials 127.0.0.1:`port` for every origin, keeping SNI and Host. */
export function redirectingAgent(port: number, ca?: string): Agent {
  const connector = buildConnector({ ...(ca ? { ca } : {}) });
  return new Agent({
    connect: (options, callback) =>
      connector(
        {
          ...options,
          hostname: '127.0.0.1',
          port: String(port),
          servername: options.servername ?? options.hostname,
        },
        callback,
      ),
  });
}

export function headerOf(headers: Array<[string, string]>, name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}
