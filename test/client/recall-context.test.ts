// RecallContext on a lab device, run from a real client control file: the Recall server is played by a small
// Node process in the lab's server namespace, on a second address of the devices' network (so pointing the
// default route at it is a real change), serving a CA made by lib/recall at /_recall/ca.pem and an HTTPS page
// whose certificate that CA signed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createServer, type Server } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecallContext, withRecall, type RecallContextOptions } from '../../client/recall-context.js';
import { createLogger, openLevelFiles } from '../../lib/logging.js';
import { builtInTestsDir } from '../../lib/package-root.js';
import { CertificateAuthority } from '../../lib/recall/tls/certificate-authority.js';
import { ServerJob } from '../../server/server-job.js';
import { Autotest } from '../../server/autotest.js';
import { createHost } from '../../server/hosts/index.js';
import type { SSHHost } from '../../server/hosts/ssh-host.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';

// Serves the CA over HTTP and a page over HTTPS, on port 0 each; prints the ports as one JSON line.
const RECALL_STUB = `
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { readFileSync } from 'node:fs';
const dir = process.argv[1];
const http = createServer((req, res) => {
  if (req.url !== '/_recall/ca.pem') return res.writeHead(404).end('no such path');
  res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(readFileSync(dir + '/ca.pem'));
});
const https = createTlsServer({ cert: readFileSync(dir + '/leaf.pem'), key: readFileSync(dir + '/leaf.key') }, (req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' }).end('<p id="site">recall-https-ok</p>');
});
// Port 80 too, on the stub's own address: the default CA URL, as a real Recall server answers it.
const http80 = createServer((req, res) => http.emit('request', req, res));
http80.listen(80, process.argv[2], () => http.listen(0, '0.0.0.0', () => https.listen(0, '0.0.0.0', () => console.log(JSON.stringify({ http: http.address().port, https: https.address().port })))));
`;

// Everything RecallContext may touch, with contents hashed and no timestamps: equal text means equal state.
const DEVICE_STATE = [
  'echo "== resolv.conf"; cat /etc/resolv.conf',
  'echo "== routes"; ip -4 route show',
  'echo "== local CAs"; cd /usr/local/share/ca-certificates && find . -printf "%p %y %m %l\\n" | sort && find . -type f -exec sha256sum {} + | sort',
  'echo "== /etc/ssl/certs"; cd /etc/ssl/certs && find . -printf "%p %y %m %l\\n" | sort && find . -type f -exec sha256sum {} + | sort',
  'echo "== nssdb"; cd /root/.pki/nssdb && find . -printf "%p %y %m\\n" | sort && sha256sum * && certutil -L -d sql:/root/.pki/nssdb',
  'echo "== temp folders"; find /tmp -maxdepth 1 -name "recall-*"',
].join('; ');

const sha256Of = (pem: string) => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

/** A server job over a temporary results folder that finds the built-in site_tests. */
const tempDirs: string[] = [];
function makeJob() {
  const resultsDir = mkdtempSync(join(tmpdir(), 'recall-context-job-'));
  tempDirs.push(resultsDir);
  const files = openLevelFiles(join(resultsDir, 'debug'), 'autoserv');
  const job = new ServerJob({ resultsDir, machines: [], testsDirs: [builtInTestsDir], logger: createLogger(files.streams), logStreams: files.streams, setupStateDir: join(resultsDir, '.setup') });
  return { job, resultsDir, close: () => files.close() };
}

interface Probe {
  nickname: string;
  caFile: string;
  dnsChanged: boolean;
  routeChanged: boolean;
  env: string;
  caFileText: string;
  systemFile: string;
  inBundle: boolean;
  nss: string;
  resolv: string;
  route: string;
  curl: string;
  node: string;
  chromium: string;
}

/** A client control file that enters Recall, looks at the device from inside, and optionally throws. */
function probeControl(options: Record<string, unknown>, httpsUrl: string, fail: boolean): string {
  return `
import { clientControl, withRecall } from 'autotest/client';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
const sh = (command) => {
  try { return execFileSync('sh', ['-c', command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 }); }
  catch (error) { return 'FAILED ' + error.status + ': ' + error.stderr; }
};
export default clientControl({ name: 'recall_context_probe', async run({ job }) {
  await withRecall({ ...${JSON.stringify(options)}, logger: job.logger }, async (ctx) => {
    const url = ${JSON.stringify(httpsUrl)};
    const probe = {
      nickname: ctx.nickname, caFile: ctx.caFile, dnsChanged: ctx.dnsChanged, routeChanged: ctx.routeChanged,
      env: process.env.NODE_EXTRA_CA_CERTS, caFileText: readFileSync(ctx.caFile, 'utf8'),
      systemFile: readFileSync('/usr/local/share/ca-certificates/' + ctx.nickname + '.crt', 'utf8'),
      inBundle: readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8').includes(ctx.certificatePem.trim()),
      nss: sh('certutil -d sql:$HOME/.pki/nssdb -L -a -n ' + ctx.nickname),
      resolv: readFileSync('/etc/resolv.conf', 'utf8'),
      route: sh('ip -4 route show default'),
      curl: sh('curl -sS --max-time 10 ' + url),
      node: sh('node -e "fetch(\\'' + url + '\\').then((r) => r.text()).then((t) => process.stdout.write(t))"'),
      chromium: sh('d=$(mktemp -d) && timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir=$d --dump-dom ' + url + ' 2>/dev/null; rm -rf $d'),
    };
    writeFileSync('/tmp/probe.json', JSON.stringify(probe));
    ${fail ? "throw new Error('the wrapped function fails on purpose');" : ''}
  });
} });
`;
}

// Without root: the checks that need no device changes (options, fetching, NODE_EXTRA_CA_CERTS), on loopback.
describe('RecallContext options and root certificate fetch', () => {
  let server: Server;
  let base: string;
  let rootPem: string;
  let rootSha256: string;
  let otherRootPem: string;
  let leafPem: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recall-context-unit-'));
    tempDirs.push(dir);
    const ca = await CertificateAuthority.open('/O=Autotest/OU=RecallContext unit', { dir });
    rootPem = ca.rootCertificatePem.replace(/\r\n/g, '\n');
    leafPem = (await ca.certificateFor('leaf.test')).certPem;
    rootSha256 = sha256Of(rootPem);
    // Another root with the same name, as someone answering in Recall's place would serve.
    const otherDir = mkdtempSync(join(tmpdir(), 'recall-context-other-'));
    tempDirs.push(otherDir);
    otherRootPem = (await CertificateAuthority.open('/O=Autotest/OU=RecallContext unit', { dir: otherDir })).rootCertificatePem;
    server = createServer((req, res) => {
      if (req.url === '/_recall/ca.pem') res.end(`some text before\n${rootPem}`);
      else if (req.url === '/tampered.pem') res.end(otherRootPem);
      else if (req.url === '/leaf.pem') res.end(leafPem);
      else if (req.url === '/silent') return; // never answers
      else res.writeHead(404).end('not here');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  const local = { systemStore: false, nssDatabase: false, redirect: false };
  const unit = () => ({ ...local, caSha256: rootSha256 });

  it('refuses a server that is not an IPv4 address, and a caUrl that is not http', async () => {
    await expect(withRecall(undefined as unknown as RecallContextOptions, () => 1)).rejects.toMatchObject({ code: 'ERR_RECALL_CONTEXT_OPTIONS', message: expect.stringContaining('args.recall_server') });
    await expect(RecallContext.enter({ server: 'recall.lab.test', caSha256: rootSha256 })).rejects.toMatchObject({ code: 'ERR_RECALL_CONTEXT_OPTIONS', message: expect.stringContaining('"recall.lab.test"') });
    await expect(RecallContext.enter({ server: '127.0.0.1', caSha256: rootSha256, caUrl: 'https://127.0.0.1/ca.pem' })).rejects.toMatchObject({ code: 'ERR_RECALL_CONTEXT_OPTIONS' });
  });

  it('refuses to start without the root fingerprint from the server', async () => {
    for (const caSha256 of [undefined, '', 'abc', rootSha256.slice(0, 63) + 'g']) {
      await expect(RecallContext.enter({ server: '127.0.0.1', caUrl: `${base}/_recall/ca.pem`, ...local, caSha256 } as RecallContextOptions)).rejects.toMatchObject({
        code: 'ERR_RECALL_CONTEXT_OPTIONS',
        message: expect.stringContaining(`expected \`caSha256\` to be the SHA-256 of the Recall root certificate (64 hex digits; a client control file gets it as args.recall_ca_sha256), got ${JSON.stringify(caSha256)}`),
      });
    }
  });

  it('refuses a root certificate other than the one the server named, in one line, and changes nothing', async () => {
    const saved = process.env.NODE_EXTRA_CA_CERTS;
    const caUrl = `${base}/tampered.pem`;
    const error = await RecallContext.enter({ server: '127.0.0.1', caUrl, ...unit() }).then(() => undefined, (e: unknown) => e as Error & { code: string });
    if (!error) throw new Error('a tampered root certificate was trusted');
    expect(error).toMatchObject({ code: 'ERR_RECALL_CA_MISMATCH' });
    expect(error.message).toContain(`refusing the certificate served at ${caUrl}`);
    expect(error.message).toContain(`SHA-256 ${sha256Of(otherRootPem)}): the Recall server's root has SHA-256 ${rootSha256}`);
    expect(error.message.split('\n')).toHaveLength(1);
    expect(process.env.NODE_EXTRA_CA_CERTS).toBe(saved);
    // The same root, named with openssl's colon form and in upper case, is accepted.
    const colons = rootSha256.toUpperCase().match(/../g)!.join(':');
    await expect(withRecall({ server: '127.0.0.1', caUrl: `${base}/_recall/ca.pem`, ...local, caSha256: colons }, (ctx) => ctx.fingerprint)).resolves.toBe(rootSha256);
  });

  it('names the URL when the certificate is missing, not a CA, or never comes', async () => {
    for (const [path, problem] of [
      ['/nothing', 'HTTP 404: not here'],
      ['/leaf.pem', 'the certificate for "CN=leaf.test" is not a CA certificate'],
      ['/silent', 'no complete answer within 300 ms'],
    ] as const) {
      const caUrl = `${base}${path}`;
      await expect(RecallContext.enter({ server: '127.0.0.1', caUrl, fetchTimeoutMs: 300, ...unit() })).rejects.toMatchObject({
        code: 'ERR_RECALL_CA_FETCH',
        message: expect.stringContaining(`fetching the Recall root certificate from ${caUrl} failed: ${problem}`),
      });
    }
  });

  it('sets NODE_EXTRA_CA_CERTS for child processes (keeping certificates it named before) and restores it', async () => {
    const earlier = join(mkdtempSync(join(tmpdir(), 'recall-context-extra-')), 'earlier.pem');
    tempDirs.push(join(earlier, '..'));
    writeFileSync(earlier, leafPem);
    const saved = process.env.NODE_EXTRA_CA_CERTS;
    process.env.NODE_EXTRA_CA_CERTS = earlier;
    try {
      const caFile = await withRecall({ server: '127.0.0.1', caUrl: `${base}/_recall/ca.pem`, ...unit() }, (ctx) => {
        expect(ctx.fingerprint).toMatch(/^[0-9a-f]{64}$/);
        expect(process.env.NODE_EXTRA_CA_CERTS).toBe(ctx.caFile);
        expect(readFileSync(ctx.caFile, 'utf8')).toBe(`${leafPem.replace(/\n?$/, '\n')}${rootPem}`);
        return ctx.caFile;
      });
      expect(process.env.NODE_EXTRA_CA_CERTS).toBe(earlier);
      expect(existsSync(caFile)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
      else process.env.NODE_EXTRA_CA_CERTS = saved;
    }
  });
});

describe.skipIf(!isRoot)('RecallContext on a lab device (needs root)', () => {
  const lab = useLab({ devices: 1 });
  let stub: ChildProcess | undefined;
  let host: SSHHost;
  let recallAddress: string;
  let gateway: string;
  let caUrl: string;
  let httpsUrl: string;
  let caPem: string;
  let caSha256: string;

  beforeAll(async () => {
    const status = lab();
    gateway = status.serverAddress;
    recallAddress = gateway.replace(/\.1$/, '.250');
    await lab.lab().run(['ip', 'addr', 'add', `${recallAddress}/24`, 'dev', 'br0']);
    const dir = mkdtempSync(join(tmpdir(), 'recall-context-ca-'));
    tempDirs.push(dir);
    const ca = await CertificateAuthority.open('/O=Autotest/OU=RecallContext test', { dir });
    const leaf = await ca.certificateFor(recallAddress);
    // forge writes CRLF line ends; RecallContext installs the certificate with LF ones.
    caPem = ca.rootCertificatePem.replace(/\r\n/g, '\n');
    caSha256 = sha256Of(caPem);
    writeFileSync(join(dir, 'ca.pem'), caPem);
    writeFileSync(join(dir, 'leaf.pem'), leaf.certPem);
    writeFileSync(join(dir, 'leaf.key'), leaf.keyPem);
    stub = spawn('ip', ['netns', 'exec', status.serverNamespace, process.execPath, '--input-type=module', '-e', RECALL_STUB, dir, recallAddress], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = await new Promise<string[]>((resolve, reject) => {
      createInterface({ input: stub!.stdout! }).once('line', (l) => resolve([l]));
      stub!.once('exit', (code) => reject(new Error(`the Recall stub exited (${code})`)));
    });
    const ports = JSON.parse(line!) as { http: number; https: number };
    caUrl = `http://${recallAddress}:${ports.http}/_recall/ca.pem`;
    httpsUrl = `https://${recallAddress}:${ports.https}/`;
    host = await createHost(status.devices[0]!.address, { sshKey: status.sshKey, knownHostsFile: status.knownHosts });
  });
  afterAll(async () => {
    await host?.close();
    stub?.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  const deviceState = async () => (await host.run(DEVICE_STATE)).stdout;
  /** Runs the probe control on the device; returns the client job's status, its status file and what the probe saw. */
  const runProbe = async (options: Record<string, unknown>, fail = false) => {
    await host.run('rm -f /tmp/probe.json');
    const { job, resultsDir, close } = makeJob();
    try {
      const result = await new Autotest(host).run(probeControl(options, httpsUrl, fail), { job, resultsDir: join(resultsDir, 'client'), tag: 'recall' });
      const clientStatus = (await host.run('cat /usr/local/autotest/results/recall/status')).stdout;
      const seen = await host.run('cat /tmp/probe.json', { ignoreStatus: true });
      return { result, clientStatus, probe: seen.exitStatus === 0 ? (JSON.parse(seen.stdout) as Probe) : undefined };
    } finally {
      close();
    }
  };

  it('trusts the root everywhere, points DNS and the default route at the server, and restores it all byte for byte', async () => {
    const before = await deviceState();
    const { result, clientStatus, probe } = await runProbe({ server: recallAddress, caUrl, caSha256 });
    expect(result.exitCode, clientStatus).toBe(0);
    expect(probe).toBeDefined();
    const p = probe!;
    expect(p.nickname).toMatch(/^recall-[0-9a-f]{16}$/);
    // Trust: the system store (curl), the NSS database (Chromium) and NODE_EXTRA_CA_CERTS (a child Node).
    expect(p.systemFile).toBe(caPem);
    expect(p.inBundle).toBe(true);
    expect(p.nss.replace(/\r/g, '').trim()).toBe(caPem.trim());
    expect(p.env).toBe(p.caFile);
    expect(p.caFileText).toBe(caPem);
    expect(p.curl).toBe('<p id="site">recall-https-ok</p>');
    expect(p.node).toBe('<p id="site">recall-https-ok</p>');
    expect(p.chromium).toContain('recall-https-ok');
    // Network: DNS and the default route now go to the Recall server.
    expect(p.dnsChanged && p.routeChanged).toBe(true);
    expect(p.resolv).toMatch(new RegExp(`^nameserver ${recallAddress.replace(/\./g, '\\.')}$`, 'm'));
    expect(p.resolv.match(/^nameserver/gm)).toHaveLength(1);
    expect(p.route.trim()).toBe(`default via ${recallAddress} dev eth0`);
    // Afterwards: as before, and the device no longer trusts the Recall root.
    expect(await deviceState()).toBe(before);
    const curl = await host.run(`curl -sS --max-time 10 ${httpsUrl}`, { ignoreStatus: true });
    expect(curl.exitStatus).toBe(60);
  }, 180_000);

  it('changes only what is not already right, and restores everything when the wrapped function throws', async () => {
    const before = await deviceState();
    // The lab's gateway as the Recall server: the default route already goes there, DNS does not.
    const { result, clientStatus, probe } = await runProbe({ server: gateway, caUrl, caSha256 }, true);
    expect(result.exitCode, clientStatus).toBe(1);
    expect(clientStatus).toMatch(/END ABORT.*the wrapped function fails on purpose/);
    expect(probe).toMatchObject({ dnsChanged: true, routeChanged: false, route: `default via ${gateway} dev eth0 \n` });
    expect(await deviceState()).toBe(before);
  }, 180_000);

  it('restores what it changed when setup fails halfway (the route cannot be changed)', async () => {
    const before = await deviceState();
    // An address off the device's network: trust and DNS are set up, then `ip route replace` refuses it.
    const { result, clientStatus, probe } = await runProbe({ server: '198.18.254.254', caUrl, caSha256 });
    expect(result.exitCode, clientStatus).toBe(1);
    expect(clientStatus).toMatch(/END ABORT.*`ip -4 route replace default via 198\.18\.254\.254` failed.*everything changed so far was restored/);
    expect(probe).toBeUndefined();
    expect(await deviceState()).toBe(before);
  }, 180_000);

  it('runs desktopui_UrlFetch from a control file with withRecall({ server: args.recall_server, caSha256: args.recall_ca_sha256 }, …): Chromium trusts the Recall root', async () => {
    const before = await deviceState();
    const control = [
      "import { clientControl, withRecall } from 'autotest/client';",
      "export default clientControl({ name: 'recall_url_fetch', async run({ job, args }) {",
      "  await withRecall({ server: args.recall_server, caSha256: args.recall_ca_sha256 }, () => job.runTest('desktopui_UrlFetch', { urls: args.urls }));",
      '} });',
    ].join('\n');
    const { job, resultsDir, close } = makeJob();
    try {
      const result = await new Autotest(host).run(control, { job, resultsDir: join(resultsDir, 'client'), tag: 'recall', tests: ['desktopui_UrlFetch'], args: `recall_server=${recallAddress} recall_ca_sha256=${caSha256} urls=${httpsUrl}` });
      const clientStatus = (await host.run('cat /usr/local/autotest/results/recall/status')).stdout;
      expect(result.exitCode, clientStatus).toBe(0);
      expect(clientStatus).toMatch(/\tGOOD\tdesktopui_UrlFetch\tdesktopui_UrlFetch\t/);
      const keyval = (await host.run('cat /usr/local/autotest/results/recall/desktopui_UrlFetch/results/keyval')).stdout;
      expect(keyval).toContain(`${`https_${recallAddress}_${new URL(httpsUrl).port}`}_status{perf}=200`);
      expect(keyval).toContain('_text_site{attr}=recall-https-ok');
    } finally {
      close();
    }
    expect(await deviceState()).toBe(before);
  }, 180_000);

  it('changes nothing when the root certificate cannot be fetched, and names the URL', async () => {
    const before = await deviceState();
    const unreachable = `http://${recallAddress}:1/_recall/ca.pem`;
    const { result, clientStatus } = await runProbe({ server: recallAddress, caUrl: unreachable, caSha256, fetchTimeoutMs: 5000 });
    expect(result.exitCode, clientStatus).toBe(1);
    expect(clientStatus).toContain(`fetching the Recall root certificate from ${unreachable} failed: connect ECONNREFUSED`);
    expect(await deviceState()).toBe(before);
  }, 120_000);
});
