// 3. Certificate minting: time to first byte over new TLS connections for never-seen names (a certificate is
// minted for each) against a name already seen, for our HTTPSServer and mitmdump (reverse mode with replay).
// The client runs on the load core, one connection at a time.
import { median, percentile, round } from './lib/stats.js';
import { runPinned } from './lib/processes.js';

const CLIENT = new URL('./clients/ttfb.js', import.meta.url).pathname;

export async function runCertMinting({ site, config, log }) {
  const { loadCore, count } = config.mint;
  const raw = {};
  const rows = [];
  const servers = { ours: site.ours.ports.https, mitmproxy: site.mitm.https.port };
  for (const [server, port] of Object.entries(servers)) {
    log(`${count} new names against ${server}`);
    const suffix = `${server}-${Date.now().toString(36)}.mint.test`;
    const { code, stdout, stderr } = await runPinned(
      loadCore,
      process.execPath,
      [CLIENT, JSON.stringify({ port, host: site.host, path: '/favicon.ico', count, suffix })],
      { timeoutMs: 120_000 },
    );
    if (code !== 0) throw new Error(`ttfb client against ${server} failed (${code}): ${stderr.slice(-800)}`);
    const r = JSON.parse(stdout.trim().split('\n').pop());
    const deltas = r.fresh.map((f, i) => f - r.cached[i]);
    raw[server] = {
      ...r,
      freshMedianMs: median(r.fresh),
      cachedMedianMs: median(r.cached),
      addedMedianMs: median(deltas),
      addedP90Ms: percentile(deltas, 90),
    };
  }
  const o = raw.ours;
  const m = raw.mitmproxy;
  const problems = (x) =>
    x.wrongSubject || x.non200 ? ` (${x.wrongSubject} wrong certificates, ${x.non200} non-200)` : '';
  rows.push({
    what: `New host name: ms added to first byte by minting (median of ${count})${problems(o)}`,
    ours: round(o.addedMedianMs),
    peer: round(m.addedMedianMs),
    peerName: 'mitmproxy',
    ratio: o.addedMedianMs / m.addedMedianMs,
    target: '≤ 1 ms (ours)',
    met: o.addedMedianMs <= 1 && !o.wrongSubject && !o.non200,
  });
  rows.push({
    what: 'New host name: first byte ms, new / known name (median)',
    ours: `${round(o.freshMedianMs)} / ${round(o.cachedMedianMs)}`,
    peer: `${round(m.freshMedianMs)} / ${round(m.cachedMedianMs)}`,
    peerName: 'mitmproxy',
    ratio: o.freshMedianMs / m.freshMedianMs,
    ratioLabel: 'new',
  });
  return { rows, raw };
}
