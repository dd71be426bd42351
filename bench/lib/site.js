// Shared setup of the HTTP benchmarks: the page set on disk, nginx serving it (HTTP and TLS, with a leaf from
// our CA so both TLS servers present the same kind of certificate), the page set recorded once through our
// recorder (the HTTP archive, and the same exchanges as https for the HTTPS archive) and once through mitmdump
// (its flows files), and the replay servers: ours and mitmdump's, all pinned to the server core.
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { Archive, CertificateAuthority } from '../../dist/lib/recall/index.js';
import { startNginx } from './nginx.js';
import { writePageSet } from './page-set.js';
import { freePort, startPinned, waitForTcp } from './processes.js';
import { writePathsScript } from './wrk.js';

const SERVER_SCRIPT = new URL('../servers/recall-server.js', import.meta.url).pathname;

/** GET through `port` with a Host header; resolves { status, body }. */
export function fetchVia({ secure, port, host, path, servername }) {
  const module = secure ? https : http;
  return new Promise((resolve, reject) => {
    const request = module.request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: { host },
        agent: false,
        ...(secure ? { rejectUnauthorized: false, servername: servername ?? 'bench.test' } : {}),
        timeout: 10_000,
      },
      (response) => {
        const chunks = [];
        response.on('data', (c) => chunks.push(c));
        response.on('end', () =>
          resolve({ status: response.statusCode, body: Buffer.concat(chunks), headers: response.headers }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`GET ${path} via ${port} timed out`)));
    request.on('error', reject);
    request.end();
  });
}

/** Starts our Recall server in `mode` pinned to `core`; resolves with the handle and the ports it printed. */
export async function startRecallServer(core, options) {
  const handle = startPinned(core, process.execPath, [SERVER_SCRIPT, JSON.stringify(options)]);
  const match = await handle.waitFor(/^READY (.*)$/m, 20_000);
  return { handle, ports: JSON.parse(match[1]) };
}

export async function startMitmdump(core, { dir, name, args }) {
  const port = await freePort();
  const confdir = join(dir, 'mitmproxy');
  mkdirSync(confdir, { recursive: true });
  const handle = startPinned(core, 'mitmdump', [
    '--listen-host',
    '127.0.0.1',
    '-p',
    String(port),
    '--set',
    `confdir=${confdir}`,
    '--set',
    'flow_detail=0',
    '--set',
    'termlog_verbosity=warn',
    ...args,
  ]);
  await waitForTcp(port, 30_000).catch((error) => {
    throw new Error(
      `mitmdump (${name}) did not listen: ${error.message}; stderr: ${handle.stderr().slice(-800)}`,
    );
  });
  return { handle, port };
}

export async function setupSite({ dir, serverCore, log }) {
  const docroot = join(dir, 'www');
  mkdirSync(docroot, { recursive: true });
  const paths = writePageSet(docroot);
  const script = writePathsScript(dir, paths);
  const caDir = join(dir, 'ca');
  const ca = await CertificateAuthority.open('/O=Recall Bench/CN=Recall Bench Root', { dir: caDir });
  const leaf = await ca.certificateFor('bench.test');
  await ca.close();
  const certFile = join(dir, 'bench.test.pem');
  const keyFile = join(dir, 'bench.test.key');
  writeFileSync(certFile, leaf.certPem);
  writeFileSync(keyFile, leaf.keyPem, { mode: 0o600 });

  const started = [];
  const site = {
    docroot,
    paths,
    script,
    caDir,
    certFile,
    keyFile,
    started,
    stop: async () => Promise.all(started.map((h) => h.stop())),
  };
  try {
    const nginx = await startNginx({ dir, docroot, certFile, keyFile, core: serverCore });
    started.push(nginx.handle);
    site.nginx = nginx;
    // The name clients ask for; the port keeps the recorder (which resolves every name to loopback) on nginx.
    site.host = `bench.test:${nginx.httpPort}`;

    log('recording the page set through our recorder');
    const httpArchive = join(dir, 'pages-http.har');
    const recorder = await startRecallServer(serverCore, { mode: 'record', saveTo: httpArchive });
    for (const path of paths) {
      const { status } = await fetchVia({ secure: false, port: recorder.ports.http, host: site.host, path });
      if (status !== 200) throw new Error(`recording ${path} through our recorder answered ${status}`);
    }
    await recorder.handle.stop();
    const recorded = await Archive.load(httpArchive);
    if (recorded.size !== paths.length)
      throw new Error(`the recording holds ${recorded.size} entries, expected ${paths.length}`);
    const secure = Archive.create();
    for (const e of recorded.exchanges) secure.add({ ...e, request: { ...e.request, scheme: 'https' } });
    const httpsArchive = join(dir, 'pages-https.har');
    await secure.save(httpsArchive);
    site.archives = { http: httpArchive, https: httpsArchive };

    log('recording the page set through mitmdump');
    site.flows = {};
    for (const [scheme, upstreamPort] of [
      ['http', nginx.httpPort],
      ['https', nginx.httpsPort],
    ]) {
      const file = join(dir, `flows-${scheme}`);
      const m = await startMitmdump(serverCore, {
        dir,
        name: `record ${scheme}`,
        args: ['--mode', `reverse:${scheme}://127.0.0.1:${upstreamPort}`, '--ssl-insecure', '-w', file],
      });
      for (const path of paths) {
        const { status } = await fetchVia({
          secure: scheme === 'https',
          port: m.port,
          host: site.host,
          path,
        });
        if (status !== 200) throw new Error(`recording ${path} through mitmdump answered ${status}`);
      }
      await m.handle.stop();
      site.flows[scheme] = { file, upstreamPort };
    }

    log('starting the replay servers');
    const ours = await startRecallServer(serverCore, { mode: 'replay', caDir, httpArchive, httpsArchive });
    started.push(ours.handle);
    site.ours = ours;
    site.mitm = {};
    for (const scheme of ['http', 'https']) {
      const { file, upstreamPort } = site.flows[scheme];
      const m = await startMitmdump(serverCore, {
        dir,
        name: `replay ${scheme}`,
        args: [
          '--mode',
          `reverse:${scheme}://127.0.0.1:${upstreamPort}`,
          '--ssl-insecure',
          '--server-replay',
          file,
          '--server-replay-nopop',
          '--set',
          'server_replay_kill_extra=true',
          '--set',
          'connection_strategy=lazy',
        ],
      });
      started.push(m.handle);
      site.mitm[scheme] = m;
    }
    return site;
  } catch (error) {
    await site.stop();
    throw error;
  }
}
