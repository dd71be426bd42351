// What users run: `recall serve` started as a user starts it (bin/recall.js, default logging, output to a pipe)
// and test_RecallServer's stack (the bench server's `fixture` mode: its servers with a job's debug-level logger
// writing the level files), beside nginx. Rows: wrk throughput and p99 at 1, 8 and 32 connections; time to the
// first byte on new connections, on a kept-alive connection and on the first contact with each of 99 host names
// (a plain client, clients/first-byte.js); RSS at rest (a 1,010-entry archive over 100 hosts) and after the loads.
// A bare Node server answering the same recorded responses from a Map (servers/bare-node-server.js) is measured in
// the same rounds: the ceiling of any server on Node's http here, so each row also says how much of the gap to
// nginx is ours.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Archive } from '../dist/lib/recall/index.js';
import { runPinned, startPinned } from './lib/processes.js';
import { startRecallServe } from './lib/recall-serve.js';
import { startRecallServer } from './lib/site.js';
import { median, round } from './lib/stats.js';
import { runWrk } from './lib/wrk.js';

const BARE_NODE = new URL('./servers/bare-node-server.js', import.meta.url).pathname;
const FIRST_BYTE = new URL('./clients/first-byte.js', import.meta.url).pathname;
const HOSTS = 100;

/** RSS and its peak (MB) of a process and its children (nginx has none here; mitmdump and node are one). */
export function memoryMB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** The page set under 100 host names over HTTPS (1,000 entries) plus the HTTP page set: one archive. */
async function writeServeArchive(site, file) {
  const archive = Archive.create();
  const http = await Archive.load(site.archives.http);
  const port = site.host.split(':')[1];
  for (const e of http.exchanges) {
    await archive.add(e);
    for (let h = 0; h < HOSTS; h++) {
      const host = h === 0 ? site.host : `h${h}.bench.test:${port}`;
      await archive.add({ ...e, request: { ...e.request, scheme: 'https', host } });
    }
  }
  await archive.save(file);
  return archive.size;
}

async function startBareNode(core, options) {
  const handle = startPinned(core, process.execPath, [BARE_NODE, JSON.stringify(options)]);
  const match = await handle.waitFor(/^READY (.*)$/m, 30_000);
  return { handle, ports: JSON.parse(match[1]) };
}

const settle = () => new Promise((r) => setTimeout(r, 1500));

export async function runServe({ site, dir, config, log }) {
  const { loadCore, serverCore, rounds, durationSec, connections } = config.serve;
  const archive = join(dir, 'serve.har');
  const entries = await writeServeArchive(site, archive);
  const [hostName, hostPort] = site.host.split(':');
  const newHosts = Array.from({ length: HOSTS - 1 }, (_, i) => `h${i + 1}.bench.test`);
  const firstByte = async (port, secure, kind, extra = {}) => {
    const args = {
      port,
      secure,
      kind,
      host: hostName,
      hostPort,
      path: site.paths[0],
      count: config.serve.count,
      ...extra,
    };
    const { code, stdout, stderr } = await runPinned(
      loadCore,
      process.execPath,
      [FIRST_BYTE, JSON.stringify(args)],
      {
        timeoutMs: 60_000,
      },
    );
    if (code !== 0) throw new Error(`first-byte ${kind} on ${port} failed (${code}): ${stderr.slice(-400)}`);
    return JSON.parse(stdout);
  };

  const servers = {
    'recall serve': () => startRecallServe(serverCore, { archive, caDir: join(dir, 'serve-ca') }),
    fixture: () =>
      startRecallServer(serverCore, {
        mode: 'fixture',
        caDir: join(dir, 'fixture-ca'),
        httpArchive: archive,
        httpsArchive: archive,
        logDir: join(dir, 'fixture-debug'),
      }),
  };
  const bareNode = () =>
    startBareNode(serverCore, { archive: site.archives.http, certFile: site.certFile, keyFile: site.keyFile });
  const nginx = {
    handle: site.nginx.handle,
    ports: { http: site.nginx.httpPort, https: site.nginx.httpsPort },
  };
  const samples = {};
  const add = (key, value) => (samples[key] ??= []).push(value);

  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}`);
    for (const [name, start] of [...Object.entries(servers), ['bare Node', bareNode], ['nginx', async () => nginx]]) {
      const server = await start();
      try {
        await settle();
        add(`${name} rest`, memoryMB(server.handle.pid).rss);
        // First contact first: in playback every name in the archive is known before any client comes.
        const hosts = await firstByte(server.ports.https, true, 'hosts', { hosts: newHosts });
        add(`${name} hosts`, median(hosts));
        add(`${name} new https`, median(await firstByte(server.ports.https, true, 'new')));
        add(`${name} new http`, median(await firstByte(server.ports.http, false, 'new')));
        add(`${name} again https`, median(await firstByte(server.ports.https, true, 'again')));
        for (const c of connections)
          for (const scheme of ['http', 'https']) {
            const w = await runWrk({
              url: `${scheme}://127.0.0.1:${server.ports[scheme]}/`,
              connections: c,
              durationSec,
              host: site.host,
              script: site.script,
              core: loadCore,
            });
            add(`${name} ${scheme} ${c}`, w);
          }
        const after = memoryMB(server.handle.pid);
        add(`${name} peak`, after.peak);
        await settle();
        add(`${name} after`, memoryMB(server.handle.pid).rss);
      } finally {
        if (server !== nginx) await server.handle.stop();
      }
    }
  }

  const rows = [];
  const m = (key) => median(samples[key]);
  for (const ours of Object.keys(servers)) {
    const label = ours === 'fixture' ? 'test_RecallServer stack' : '`recall serve`';
    for (const c of connections)
      for (const scheme of ['http', 'https']) {
        const o = samples[`${ours} ${scheme} ${c}`];
        const n = samples[`nginx ${scheme} ${c}`];
        const rps = median(o.map((s) => s.rps));
        const nrps = median(n.map((s) => s.rps));
        const p99 = median(o.map((s) => s.p99Ms));
        const np99 = median(n.map((s) => s.p99Ms));
        const bad = o.reduce((a, s) => a + s.errors + s.non2xx, 0);
        const brps = median(samples[`bare Node ${scheme} ${c}`].map((s) => s.rps));
        rows.push({
          what: `${label} ${scheme.toUpperCase()}, ${c} conn: req/s${bad ? ` (${bad} errors or non-2xx)` : ''}`,
          ours: round(rps),
          peer: round(nrps),
          peerName: 'nginx',
          ratio: rps / nrps,
          target: '≥ 0.9',
          met: rps / nrps >= 0.9 && bad === 0,
        });
        rows.push({
          what: `${label} ${scheme.toUpperCase()}, ${c} conn: req/s against the ceiling on Node`,
          ours: round(rps),
          peer: round(brps),
          peerName: 'bare Node http',
          ratio: rps / brps,
        });
        rows.push({
          what: `${label} ${scheme.toUpperCase()}, ${c} conn: p99 ms`,
          ours: round(p99),
          peer: round(np99),
          peerName: 'nginx',
          ratio: p99 / np99,
          target: '≤ 1.5',
          met: p99 / np99 <= 1.5,
        });
      }
    for (const [kind, what, target] of [
      ['new https', 'first byte, new HTTPS connection, ms (p50)', 1.2],
      ['new http', 'first byte, new HTTP connection, ms (p50)'],
      ['again https', 'first byte, kept-alive HTTPS connection, ms (p50)'],
      ['hosts', `first byte, first contact with each of ${HOSTS - 1} host names (HTTPS), ms (p50)`, 1.2],
    ]) {
      const r = m(`${ours} ${kind}`) / m(`nginx ${kind}`);
      rows.push({
        what: `${label}: ${what}`,
        ours: round(m(`${ours} ${kind}`)),
        peer: round(m(`nginx ${kind}`)),
        peerName: 'nginx',
        ratio: r,
        ...(target ? { target: `≤ ${target}`, met: r <= target } : {}),
      });
    }
    rows.push({
      what: `${label}: RSS MB at rest (replay, ${entries}-entry archive)`,
      ours: round(m(`${ours} rest`)),
      peer: round(m('nginx rest')),
      peerName: 'nginx',
      ratio: m(`${ours} rest`) / m('nginx rest'),
      target: '< 60 MB',
      met: m(`${ours} rest`) < 60,
    });
    rows.push({
      what: `${label}: RSS MB at rest against the ceiling on Node`,
      ours: round(m(`${ours} rest`)),
      peer: round(m('bare Node rest')),
      peerName: 'bare Node http',
      ratio: m(`${ours} rest`) / m('bare Node rest'),
    });
    rows.push({
      what: `${label}: RSS MB peak under the loads above / at rest after them`,
      ours: `${round(m(`${ours} peak`))} / ${round(m(`${ours} after`))}`,
      peer: `${round(m('nginx peak'))} / ${round(m('nginx after'))}`,
      peerName: 'nginx',
      ratio: m(`${ours} peak`) / m('nginx peak'),
      ratioLabel: 'peak',
    });
  }
  return { rows, raw: { samples, entries } };
}
