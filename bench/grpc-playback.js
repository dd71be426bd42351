// gRPC unary playback: /recalltest.Echo/Say answered by GrpcPlaybackClient behind HTTPSServer (h2) vs the live
// @grpc/grpc-js server it stands for; a grpc-js client process (load core) keeps 1 and 8 calls in flight for
// `durationSec`, interleaved rounds, medians of calls/s and p99.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Archive } from '../dist/lib/recall/index.js';
import { runPinned, startPinned } from './lib/processes.js';
import { median, round } from './lib/stats.js';

const PROTO = new URL('../test/fixtures/grpc/echo.proto', import.meta.url).pathname;
const ORIGIN = new URL('./servers/grpc-echo-server.js', import.meta.url).pathname;
const OURS = new URL('./servers/h2-playback-server.js', import.meta.url).pathname;
const CLIENT = new URL('./clients/grpc-unary.js', import.meta.url).pathname;
const HOST = 'bench.test';
const SAY_HI = '0a026869'; // Note { text: "hi" }
const SAID_HI = '0a07736169642068691001'; // Note { text: "said hi", number: 1 }: what the live server answers

const framed = (hex) => {
  const bytes = Buffer.from(hex, 'hex');
  const head = Buffer.alloc(5);
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
};

async function writeArchive(file) {
  const archive = Archive.create();
  archive.recall.alpn = { [HOST]: 'h2' };
  const headers = [['content-type', 'application/grpc']];
  await archive.add({
    startedDateTime: new Date().toISOString(),
    timeMs: 1,
    request: { method: 'POST', scheme: 'https', host: HOST, target: '/recalltest.Echo/Say', httpVersion: '2.0', headers, body: framed(SAY_HI) },
    response: { status: 200, statusText: 'OK', httpVersion: '2.0', headers, body: framed(SAID_HI), trailers: [['grpc-status', '0']] },
  });
  await archive.save(file);
}

export async function runGrpcPlayback({ dir, config, log }) {
  const { loadCore, serverCore, rounds, durationSec, concurrency } = config.grpc;
  const root = join(dir, 'grpc');
  mkdirSync(root, { recursive: true });
  const certFile = join(root, 'origin.pem');
  const keyFile = join(root, 'origin.key');
  await runPinned(serverCore, 'openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`,
    '-addext', `subjectAltName=DNS:${HOST}`, '-keyout', keyFile, '-out', certFile]);
  const archiveFile = join(root, 'grpc.har');
  await writeArchive(archiveFile);
  const origin = startPinned(serverCore, process.execPath, [ORIGIN, JSON.stringify({ proto: PROTO, certFile, keyFile })]);
  const ours = startPinned(serverCore, process.execPath, [OURS, JSON.stringify({ archive: archiveFile, dir: root })]);
  try {
    const originPort = Number((await origin.waitFor(/^READY (\d+)$/m, 20_000))[1]);
    const [, oursPort, oursCa] = await ours.waitFor(/^READY (\d+) (\S+)$/m, 20_000);
    const targets = [
      { server: 'ours', port: Number(oursPort), caFile: oursCa },
      { server: 'grpc-js', port: originPort, caFile: certFile },
    ];
    const run = async (t, c, d) => {
      const args = { port: t.port, authority: HOST, caFile: t.caFile, durationSec: d, concurrency: c, message: SAY_HI };
      const { stdout, stderr } = await runPinned(loadCore, process.execPath, [CLIENT, JSON.stringify(args)], { timeoutMs: (d + 30) * 1000 });
      const line = stdout.trim().split('\n').pop();
      if (!line?.startsWith('{')) throw new Error(`gRPC client gave no result: ${stderr.slice(-400)}`);
      return JSON.parse(line);
    };
    log('warming up');
    for (const t of targets) await run(t, 8, 1);
    const samples = {};
    for (let r = 0; r < rounds; r++) {
      log(`round ${r + 1}/${rounds}`);
      for (const c of concurrency) for (const t of targets) (samples[`${t.server} ${c}`] ??= []).push(await run(t, c, durationSec));
    }
    const rows = [];
    const summary = {};
    for (const [key, list] of Object.entries(samples))
      summary[key] = {
        callsPerSec: median(list.map((x) => x.callsPerSec)),
        p99Ms: median(list.map((x) => x.p99Ms)),
        errors: list.reduce((a, x) => a + x.errors, 0),
      };
    for (const c of concurrency) {
      const o = summary[`ours ${c}`];
      const g = summary[`grpc-js ${c}`];
      const note = o.errors ? ` (${o.errors} failed calls)` : '';
      rows.push({ what: `gRPC unary playback, ${c} in flight: calls/s${note}`, ours: round(o.callsPerSec), peer: round(g.callsPerSec), peerName: 'live grpc-js server', ratio: o.callsPerSec / g.callsPerSec });
      rows.push({ what: `gRPC unary playback, ${c} in flight: p99 ms`, ours: round(o.p99Ms), peer: round(g.p99Ms), peerName: 'live grpc-js server', ratio: o.p99Ms / g.p99Ms, ratioLabel: 'p99' });
    }
    return { rows, raw: { samples, summary } };
  } finally {
    await ours.stop();
    await origin.stop();
  }
}
