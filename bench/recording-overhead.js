// 4. Recording overhead: the page set fetched through our recorder (HTTPServer + ArchivingHTTPClient + HTTPClient,
// keeping every exchange) against the same page set fetched from nginx directly. wrk on the load core; the
// recorder and nginx on the server core. A fresh recorder per run (after one discarded second of load), so every
// run starts with a small archive.
import { median, round } from './lib/stats.js';
import { runWrk } from './lib/wrk.js';
import { join } from 'node:path';
import { startMitmdump, startRecallServer } from './lib/site.js';

export async function runRecordingOverhead({ site, dir, config, log }) {
  const { loadCore, serverCore, rounds, durationSec, connections } = config.record;
  const samples = {};
  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}`);
    for (const c of connections) {
      const direct = await runWrk({
        url: `http://127.0.0.1:${site.nginx.httpPort}/`,
        connections: c,
        durationSec,
        host: site.host,
        script: site.script,
        core: loadCore,
      });
      const recorder = await startRecallServer(serverCore, { mode: 'record' });
      let recorded;
      try {
        // A fresh process starts with cold JIT: one discarded second of load first, as the other servers had.
        await runWrk({
          url: `http://127.0.0.1:${recorder.ports.http}/`,
          connections: c,
          durationSec: 1,
          host: site.host,
          script: site.script,
          core: loadCore,
        });
        recorded = await runWrk({
          url: `http://127.0.0.1:${recorder.ports.http}/`,
          connections: c,
          durationSec,
          host: site.host,
          script: site.script,
          core: loadCore,
        });
      } finally {
        await recorder.handle.stop();
      }
      // mitmdump recording the same traffic (reverse proxy to nginx, every flow written with -w), for scale.
      const mitm = await startMitmdump(serverCore, {
        dir,
        name: 'record',
        args: [
          '--mode',
          `reverse:http://127.0.0.1:${site.nginx.httpPort}`,
          '-w',
          join(dir, `record-${r}-${c}.flows`),
        ],
      });
      let mitmRecorded;
      try {
        const url = `http://127.0.0.1:${mitm.port}/`;
        await runWrk({
          url,
          connections: c,
          durationSec: 1,
          host: site.host,
          script: site.script,
          core: loadCore,
        });
        mitmRecorded = await runWrk({
          url,
          connections: c,
          durationSec,
          host: site.host,
          script: site.script,
          core: loadCore,
        });
      } finally {
        await mitm.handle.stop();
      }
      (samples[`mitmproxy ${c}`] ??= []).push(mitmRecorded);
      (samples[`direct ${c}`] ??= []).push(direct);
      (samples[`recorded ${c}`] ??= []).push(recorded);
    }
  }
  const rows = [];
  for (const c of connections) {
    const d = samples[`direct ${c}`];
    const r = samples[`recorded ${c}`];
    const rd = {
      rps: median(d.map((s) => s.rps)),
      p50: median(d.map((s) => s.p50Ms)),
      p99: median(d.map((s) => s.p99Ms)),
    };
    const rr = {
      rps: median(r.map((s) => s.rps)),
      p50: median(r.map((s) => s.p50Ms)),
      p99: median(r.map((s) => s.p99Ms)),
    };
    const bad = r.reduce((a, s) => a + s.non2xx + s.errors, 0);
    rows.push({
      what: `Recording, ${c} conn: req/s recorded vs fetched directly${bad ? ` (${bad} failures)` : ''}`,
      ours: round(rr.rps),
      peer: round(rd.rps),
      peerName: 'direct (nginx)',
      ratio: rr.rps / rd.rps,
    });
    const m = samples[`mitmproxy ${c}`];
    const mitmRps = median(m.map((s) => s.rps));
    rows.push({
      what: `Recording, ${c} conn: req/s recorded`,
      ours: round(rr.rps),
      peer: round(mitmRps),
      peerName: 'mitmdump -w',
      ratio: rr.rps / mitmRps,
      target: '≥ 5',
      met: rr.rps / mitmRps >= 5,
    });
    rows.push({
      what: `Recording, ${c} conn: p50 / p99 ms`,
      ours: `${round(rr.p50)} / ${round(rr.p99)}`,
      peer: `${round(rd.p50)} / ${round(rd.p99)}`,
      peerName: 'direct (nginx)',
      ratio: rr.p50 / rd.p50,
      ratioLabel: 'p50',
    });
  }
  return { rows, raw: samples };
}
