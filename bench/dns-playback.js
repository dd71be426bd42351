// 2. DNS playback as users run it: dnsperf (load core) against `recall serve --mode replay` (bin/recall.js, default
// logging) answering 1,000 names from an archive, against dnsmasq answering the same names from a hosts file, and
// against a bare Node UDP echo (dns-echo-server.js: the ceiling of any server on Node's dgram here), all on the
// server core. One discarded second of load each first, then interleaved rounds; medians.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Archive } from '../dist/lib/recall/index.js';
import { freePort, runPinned, startPinned } from './lib/processes.js';
import { memoryMB } from './serve.js';
import { startRecallServe } from './lib/recall-serve.js';
import { median, round } from './lib/stats.js';

const ECHO_SERVER = new URL('./dns-echo-server.js', import.meta.url).pathname;

async function startEcho(core) {
  const handle = startPinned(core, process.execPath, [ECHO_SERVER]);
  const match = await handle.waitFor(/^READY (.*)$/m, 10_000);
  return { handle, port: JSON.parse(match[1]).dns };
}

/** dnsperf: 100 queries in flight from one socket for `seconds`, cycling through `queryFile`. */
function dnsperf(loadCore, port, queryFile, seconds) {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(seconds), '-t', '2', '-q', '100'];
  return runPinned(loadCore, 'dnsperf', [...args, '-c', '1', '-T', '1'], { timeoutMs: (seconds + 20) * 1000 });
}

/** CPU time (user + system) a process has used, in microseconds. */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1e6 / 100); // utime, stime in clock ticks (USER_HZ 100)
}

function parseDnsperf(text) {
  const num = (re) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    noerror: num(/NOERROR (\d+)/),
  };
}

async function waitForDns(port, loadCore, probeFile) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const probe = await runPinned(
      loadCore,
      'dnsperf',
      ['-s', '127.0.0.1', '-p', String(port), '-n', '1', '-t', '1', '-d', probeFile],
      { timeoutMs: 5000 },
    ).catch(() => undefined);
    if (probe && / NOERROR /.test(probe.stdout)) return;
    if (Date.now() > deadline) throw new Error(`no DNS server answers on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runDnsPlayback({ dir, config, log }) {
  const { serverCore, loadCore, names, rounds, durationSec } = config.dns;
  const answers = [];
  const hosts = [];
  const queries = [];
  for (let i = 0; i < names; i++) {
    const name = `h${i}.dns-bench.test`;
    const address = `198.18.${200 + Math.floor(i / 250)}.${(i % 250) + 1}`;
    answers.push({ name, type: 'A', ttl: 300, data: [address] });
    hosts.push(`${address} ${name}`);
    queries.push(`${name} A`);
  }
  const hostsFile = join(dir, 'dns-hosts');
  const queryFile = join(dir, 'dns-queries');
  writeFileSync(hostsFile, `${hosts.join('\n')}\n`);
  writeFileSync(queryFile, `${queries.join('\n')}\n`);

  const archiveFile = join(dir, 'dns-answers.har');
  const archive = Archive.create();
  archive.setDnsAnswers(answers);
  await archive.save(archiveFile);

  const started = [];
  try {
    const ours = await startRecallServe(serverCore, { archive: archiveFile, caDir: join(dir, 'dns-ca') });
    started.push(ours.handle);
    const echo = await startEcho(serverCore);
    started.push(echo.handle);
    const dnsmasqPort = await freePort();
    const dnsmasq = startPinned(serverCore, 'dnsmasq', [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      `--addn-hosts=${hostsFile}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--port=${dnsmasqPort}`,
      '--user=root',
      '--pid-file',
      '--cache-size=10000',
      '--local-ttl=300',
      '--log-facility=-',
      '--no-negcache',
    ]);
    started.push(dnsmasq);
    const servers = { ours: ours.ports.dns, echo: echo.port, dnsmasq: dnsmasqPort };
    writeFileSync(join(dir, 'dns-probe'), `${queries[0]}\n`);
    for (const port of Object.values(servers)) await waitForDns(port, loadCore, join(dir, 'dns-probe'));
    const samples = { ours: [], echo: [], dnsmasq: [] };
    const pids = { ours: ours.handle.pid, echo: echo.handle.pid, dnsmasq: dnsmasq.pid };
    const rest = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, memoryMB(pid).rss]));
    // A second of load each, not counted: the first seconds of a Node process run code not yet optimised.
    for (const port of Object.values(servers)) await dnsperf(loadCore, port, queryFile, 1);
    for (let r = 0; r < rounds; r++) {
      log(`round ${r + 1}/${rounds}`);
      for (const [server, port] of Object.entries(servers)) {
        const before = cpuMicros(pids[server]);
        const { code, stdout, stderr } = await dnsperf(loadCore, port, queryFile, durationSec);
        if (code !== 0) throw new Error(`dnsperf against ${server} failed (${code}): ${stderr || stdout}`);
        const run = parseDnsperf(stdout);
        // CPU per query: what each answer costs the server, whatever share of the core other jobs took meanwhile.
        samples[server].push({ ...run, cpuMicrosPerQuery: (cpuMicros(pids[server]) - before) / run.completed });
      }
    }
    const memory = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, memoryMB(pid)]));
    const m = (server, field) => median(samples[server].map((s) => s[field]));
    const lost = (server) => samples[server].reduce((a, s) => a + s.lost, 0);
    const sent = (server) => samples[server].reduce((a, s) => a + s.sent, 0);
    const rows = [
      {
        what: `DNS playback, \`recall serve\`: queries/s (${names} names, UDP, 100 outstanding)`,
        ours: round(m('ours', 'qps')),
        peer: round(m('dnsmasq', 'qps')),
        peerName: 'dnsmasq',
        ratio: m('ours', 'qps') / m('dnsmasq', 'qps'),
        target: '≥ 0.7, none lost',
        met: m('ours', 'qps') / m('dnsmasq', 'qps') >= 0.7 && lost('ours') === 0,
      },
      {
        what: 'DNS: a bare Node UDP echo (no work: the ceiling of a Node server here), queries/s',
        ours: round(m('echo', 'qps')),
        peer: round(m('dnsmasq', 'qps')),
        peerName: 'dnsmasq',
        ratio: m('echo', 'qps') / m('dnsmasq', 'qps'),
      },
      {
        what: `DNS playback: server CPU µs per query under the load above (echo: ${round(m('echo', 'cpuMicrosPerQuery'))})`,
        ours: round(m('ours', 'cpuMicrosPerQuery')),
        peer: round(m('dnsmasq', 'cpuMicrosPerQuery')),
        peerName: 'dnsmasq',
        ratio: m('ours', 'cpuMicrosPerQuery') / m('dnsmasq', 'cpuMicrosPerQuery'),
      },
      {
        what: 'DNS playback: queries lost / sent (all rounds)',
        ours: `${lost('ours')} / ${sent('ours')}`,
        peer: `${lost('dnsmasq')} / ${sent('dnsmasq')}`,
        peerName: 'dnsmasq',
        ratio: undefined,
      },
      {
        what: 'DNS playback: average latency ms',
        ours: round(m('ours', 'avgLatencyMs')),
        peer: round(m('dnsmasq', 'avgLatencyMs')),
        peerName: 'dnsmasq',
        ratio: m('ours', 'avgLatencyMs') / m('dnsmasq', 'avgLatencyMs'),
      },
      {
        what: `DNS playback: RSS MB at rest (${names} names) / peak under the load above (echo: ${round(rest.echo)} / ${round(memory.echo.peak)})`,
        ours: `${round(rest.ours)} / ${round(memory.ours.peak)}`,
        peer: `${round(rest.dnsmasq)} / ${round(memory.dnsmasq.peak)}`,
        peerName: 'dnsmasq',
        ratio: memory.ours.peak / memory.dnsmasq.peak,
        ratioLabel: 'peak',
      },
    ];
    return { rows, raw: { samples, memory, rest } };
  } finally {
    await Promise.all(started.map((handle) => handle.stop()));
  }
}
