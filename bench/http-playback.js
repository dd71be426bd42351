// 1. HTTP and HTTPS playback: the same recorded page set replayed by our HTTPServer/HTTPSServer and by mitmdump's
// server replay, with nginx serving the same bytes as the ceiling; wrk (one thread, load core) at 1, 8 and 32
// connections, interleaved rounds, medians.
import { median, round } from './lib/stats.js';
import { runWrk } from './lib/wrk.js';

export async function runHttpPlayback({ site, config, log }) {
  const { loadCore, rounds, durationSec, connections } = config.http;
  const targets = [];
  for (const scheme of ['http', 'https']) {
    const secure = scheme === 'https';
    targets.push(
      { scheme, server: 'ours', port: secure ? site.ours.ports.https : site.ours.ports.http },
      { scheme, server: 'mitmproxy', port: site.mitm[scheme].port },
      { scheme, server: 'nginx', port: secure ? site.nginx.httpsPort : site.nginx.httpPort },
    );
  }
  const url = (t) => `${t.scheme}://127.0.0.1:${t.port}/`;
  const run = (t, c, d) =>
    runWrk({
      url: url(t),
      connections: c,
      durationSec: d,
      host: site.host,
      script: site.script,
      core: loadCore,
    });

  log('warming up every server');
  for (const t of targets) await run(t, 8, 1);

  const samples = {}; // `${scheme} ${server} ${c}` → wrk results
  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}`);
    for (const c of connections)
      for (const t of targets) {
        const key = `${t.scheme} ${t.server} ${c}`;
        (samples[key] ??= []).push(await run(t, c, durationSec));
      }
  }
  const summary = {};
  for (const [key, list] of Object.entries(samples)) {
    summary[key] = {
      rps: median(list.map((s) => s.rps)),
      p50Ms: median(list.map((s) => s.p50Ms)),
      p99Ms: median(list.map((s) => s.p99Ms)),
      requests: list.reduce((a, s) => a + s.requests, 0),
      errors: list.reduce((a, s) => a + s.errors, 0),
      non2xx: list.reduce((a, s) => a + s.non2xx, 0),
    };
  }

  const rows = [];
  for (const scheme of ['http', 'https']) {
    const label = scheme.toUpperCase();
    const rpsTarget = 0.9; // issue 18: ≥ 0.9 of nginx, p99 ≤ 1.5× nginx's
    for (const c of connections) {
      const ours = summary[`${scheme} ours ${c}`];
      const nginx = summary[`${scheme} nginx ${c}`];
      const mitm = summary[`${scheme} mitmproxy ${c}`];
      const bad = ours.errors + ours.non2xx;
      const note = bad ? ` (${ours.non2xx} non-2xx, ${ours.errors} socket errors)` : '';
      rows.push({
        what: `${label} playback, ${c} conn: req/s${note}`,
        ours: round(ours.rps),
        peer: round(nginx.rps),
        peerName: 'nginx',
        ratio: ours.rps / nginx.rps,
        target: `≥ ${rpsTarget}`,
        met: ours.rps / nginx.rps >= rpsTarget && bad === 0,
      });
      rows.push({
        what: `${label} playback, ${c} conn: req/s`,
        ours: round(ours.rps),
        peer: round(mitm.rps),
        peerName: 'mitmproxy replay',
        ratio: ours.rps / mitm.rps,
      });
      rows.push({
        what: `${label} playback, ${c} conn: p50 / p99 ms`,
        ours: `${round(ours.p50Ms)} / ${round(ours.p99Ms)}`,
        peer: `${round(nginx.p50Ms)} / ${round(nginx.p99Ms)}`,
        peerName: 'nginx',
        ratio: ours.p99Ms / nginx.p99Ms,
        ratioLabel: 'p99',
        target: '≤ 1.5 (p99)',
        met: ours.p99Ms / nginx.p99Ms <= 1.5,
      });
      rows.push({
        what: `${label} playback, ${c} conn: p50 / p99 ms`,
        ours: `${round(ours.p50Ms)} / ${round(ours.p99Ms)}`,
        peer: `${round(mitm.p50Ms)} / ${round(mitm.p99Ms)}`,
        peerName: 'mitmproxy replay',
        ratio: ours.p99Ms / mitm.p99Ms,
        ratioLabel: 'p99',
      });
    }
  }
  return { rows, raw: { samples, summary } };
}
