// 7. Archive size: load time and memory of archives of 1k, 10k and 100k entries (.har.gz), each loaded in a fresh
// process (Archive.load, then PlaybackHTTPClient's index). The reference is gunzip + JSON.parse of the same file.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Archive } from '../dist/lib/recall/index.js';
import { runPinned } from './lib/processes.js';
import { median, round } from './lib/stats.js';

const LOADER = new URL('./clients/archive-load.js', import.meta.url).pathname;

function exchange(i) {
  const binary = i % 10 === 0;
  const body = binary
    ? Buffer.from(Array.from({ length: 400 }, (_, k) => (i * 31 + k * 7) & 0xff))
    : Buffer.from(`{"id":${i},"text":"${'x'.repeat(380)}"}`);
  const host = `site${i % 100}.example.test`;
  return {
    startedDateTime: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i % 1000)).toISOString(),
    timeMs: 12,
    request: {
      method: 'GET',
      scheme: 'https',
      host,
      target: `/page/${i}?q=${i % 7}`,
      httpVersion: '1.1',
      headers: [
        ['Host', host],
        ['User-Agent', 'bench/1.0'],
        ['Accept', '*/*'],
        ['Accept-Encoding', 'identity'],
      ],
      body: Buffer.alloc(0),
    },
    response: {
      status: 200,
      statusText: 'OK',
      httpVersion: '1.1',
      headers: [
        ['Content-Type', binary ? 'application/octet-stream' : 'application/json'],
        ['Content-Length', String(body.length)],
        ['Date', 'Thu, 01 Jan 2026 00:00:00 GMT'],
        ['Cache-Control', 'max-age=60'],
      ],
      body,
    },
  };
}

export async function runArchiveSize({ dir, config, log }) {
  const { sizes, rounds, roundsAbove50k, loadCore } = config.archive;
  const raw = {};
  const rows = [];
  for (const n of sizes) {
    log(`${n} entries: writing`);
    const archive = Archive.create();
    for (let i = 0; i < n; i++) archive.add(exchange(i));
    const file = join(dir, `archive-${n}.har.gz`);
    await archive.save(file);
    const fileMB = statSync(file).size / (1024 * 1024);
    const samples = { recall: [], json: [] };
    log(`${n} entries: loading`);
    const count = n > 50_000 ? roundsAbove50k : rounds;
    for (let r = 0; r < count; r++)
      for (const mode of ['recall', 'json']) {
        const { code, stdout, stderr } = await runPinned(
          loadCore,
          process.execPath,
          ['--expose-gc', '--max-old-space-size=4096', LOADER, file, mode],
          { timeoutMs: 120_000 },
        );
        if (code !== 0) throw new Error(`loading ${file} (${mode}) failed (${code}): ${stderr.slice(-800)}`);
        samples[mode].push(JSON.parse(stdout.trim().split('\n').pop()));
      }
    const m = (mode, field) => median(samples[mode].map((s) => s[field]));
    raw[n] = { fileMB, samples };
    rows.push({
      what: `Archive ${n} entries (${round(fileMB)} MB gz): load + index ms (median of ${count})`,
      ours: round(m('recall', 'totalMs')),
      peer: round(m('json', 'totalMs')),
      peerName: 'gunzip + JSON.parse',
      ratio: m('recall', 'totalMs') / m('json', 'totalMs'),
    });
    rows.push({
      what: `Archive ${n} entries: memory held after load, MB (RSS)`,
      ours: `${round(m('recall', 'retainedMB'))} (${round(m('recall', 'rssMB'))})`,
      peer: `${round(m('json', 'retainedMB'))} (${round(m('json', 'rssMB'))})`,
      peerName: 'gunzip + JSON.parse',
      ratio: m('recall', 'retainedMB') / m('json', 'retainedMB'),
    });
  }
  return { rows, raw };
}
