// HTTP/2 playback: the page set replayed over h2 by HTTPSServer + PlaybackHTTPClient (the host recorded as h2)
// and served by nginx (`listen … ssl http2`, the same bytes) as the ceiling; h2load (one client connection, load
// core) at 1, 8 and 32 concurrent streams, interleaved rounds, medians; p99 from h2load's per-request log.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Archive } from '../dist/lib/recall/index.js';
import { writePageSet } from './lib/page-set.js';
import { startNginx } from './lib/nginx.js';
import { runPinned, startPinned } from './lib/processes.js';
import { median, percentile, round } from './lib/stats.js';

const SERVER_SCRIPT = new URL('./servers/h2-playback-server.js', import.meta.url).pathname;
const HOST = 'bench.test';
const TYPES = { html: 'text/html', js: 'application/javascript', css: 'text/css', json: 'application/json', svg: 'image/svg+xml', png: 'image/png', jpg: 'image/jpeg', ico: 'image/x-icon' };

/** nginx serving the same files over h2, with a throwaway self-signed leaf (h2load does not verify; the TLS work
 * is the same kind as ours, RSA 2048). */
async function startH2Nginx({ dir, docroot, core }) {
  await runPinned(core, 'openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`,
    '-keyout', join(dir, 'h2.key'), '-out', join(dir, 'h2.pem')]);
  const nginx = await startNginx({ dir, docroot, certFile: join(dir, 'h2.pem'), keyFile: join(dir, 'h2.key'), core, http2: true });
  return { handle: nginx.handle, port: nginx.httpsPort };
}

/** The page set as an archive of h2 exchanges for HOST, the bytes and content types nginx serves. */
async function writeArchive(file, docroot, paths) {
  const archive = Archive.create();
  archive.recall.alpn = { [HOST]: 'h2' };
  const started = new Date().toISOString();
  for (const path of paths) {
    const body = readFileSync(join(docroot, path));
    const type = TYPES[path.split('.').pop()] ?? 'application/octet-stream';
    await archive.add({
      startedDateTime: started,
      timeMs: 1,
      request: { method: 'GET', scheme: 'https', host: HOST, target: path, httpVersion: '2.0', headers: [], body: Buffer.alloc(0) },
      response: { status: 200, statusText: 'OK', httpVersion: '2.0', headers: [['content-type', type], ['content-length', String(body.length)]], body },
    });
  }
  await archive.save(file);
}

async function h2load({ port, paths, streams, durationSec, core, logFile }) {
  const urls = paths.map((p) => `https://127.0.0.1:${port}${p}`);
  const { stdout, stderr } = await runPinned(
    core,
    'h2load',
    ['--npn-list=h2', '-c', '1', '-m', String(streams), '-D', String(durationSec), '-H', `:authority: ${HOST}`, '--log-file', logFile, ...urls],
    { timeoutMs: (durationSec + 30) * 1000 },
  );
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout)?.[1]);
  const done = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(stdout);
  const codes = /status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  const non2xx = codes ? Number(codes[1]) + Number(codes[2]) + Number(codes[3]) : NaN;
  if (!Number.isFinite(rps) || !done) throw new Error(`h2load gave no result: ${stdout.slice(-600)} ${stderr.slice(-400)}`);
  const latenciesMs = readFileSync(logFile, 'utf8').trim().split('\n').map((line) => Number(line.split('\t')[2]) / 1000);
  return { rps, p50Ms: percentile(latenciesMs, 50), p99Ms: percentile(latenciesMs, 99), requests: Number(done[2]), non2xx, failed: Number(done[4]) + Number(done[5]) };
}

export async function runH2Playback({ dir, config, log }) {
  const { loadCore, serverCore, rounds, durationSec, streams } = config.h2;
  const root = join(dir, 'h2');
  const docroot = join(root, 'www');
  mkdirSync(docroot, { recursive: true });
  const paths = writePageSet(docroot);
  const archiveFile = join(root, 'pages-h2.har');
  await writeArchive(archiveFile, docroot, paths);
  const nginx = await startH2Nginx({ dir: root, docroot, core: serverCore });
  const ours = startPinned(serverCore, process.execPath, [SERVER_SCRIPT, JSON.stringify({ archive: archiveFile, dir: root })]);
  try {
    const oursPort = Number((await ours.waitFor(/^READY (\d+) /m, 20_000))[1]);
    const targets = [
      { server: 'ours', port: oursPort },
      { server: 'nginx', port: nginx.port },
    ];
    let n = 0;
    const run = (t, s, d) => h2load({ port: t.port, paths, streams: s, durationSec: d, core: loadCore, logFile: join(root, `h2load-${n++}.log`) });
    log('warming up');
    for (const t of targets) await run(t, 8, 1);
    const samples = {};
    for (let r = 0; r < rounds; r++) {
      log(`round ${r + 1}/${rounds}`);
      for (const s of streams) for (const t of targets) (samples[`${t.server} ${s}`] ??= []).push(await run(t, s, durationSec));
    }
    const summary = {};
    for (const [key, list] of Object.entries(samples))
      summary[key] = {
        rps: median(list.map((x) => x.rps)),
        p50Ms: median(list.map((x) => x.p50Ms)),
        p99Ms: median(list.map((x) => x.p99Ms)),
        requests: list.reduce((a, x) => a + x.requests, 0),
        bad: list.reduce((a, x) => a + x.non2xx + x.failed, 0),
      };
    const rows = [];
    for (const s of streams) {
      const o = summary[`ours ${s}`];
      const g = summary[`nginx ${s}`];
      const note = o.bad ? ` (${o.bad} failed or non-2xx)` : '';
      rows.push({ what: `h2 playback, ${s} streams: req/s${note}`, ours: round(o.rps), peer: round(g.rps), peerName: 'nginx h2', ratio: o.rps / g.rps });
      rows.push({ what: `h2 playback, ${s} streams: p50 / p99 ms`, ours: `${round(o.p50Ms)} / ${round(o.p99Ms)}`, peer: `${round(g.p50Ms)} / ${round(g.p99Ms)}`, peerName: 'nginx h2', ratio: o.p99Ms / g.p99Ms, ratioLabel: 'p99' });
    }
    return { rows, raw: { samples, summary } };
  } finally {
    await ours.stop();
    await nginx.handle.stop();
  }
}
