// 2. DNS playback: dnsperf (load core) against our DNSServer answering from recorded answers and against dnsmasq
// answering the same names from a hosts file, both on the server core. Interleaved rounds, medians.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, runPinned, startPinned } from './lib/processes.js';
import { memoryMB } from './serve.js';
import { startRecallServer } from './lib/site.js';
import { median, round } from './lib/stats.js';

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
  const answersFile = join(dir, 'dns-answers.json');
  const hostsFile = join(dir, 'dns-hosts');
  const queryFile = join(dir, 'dns-queries');
  writeFileSync(answersFile, JSON.stringify(answers));
  writeFileSync(hostsFile, `${hosts.join('\n')}\n`);
  writeFileSync(queryFile, `${queries.join('\n')}\n`);

  const ours = await startRecallServer(serverCore, { mode: 'dns', answersFile });
  let dnsmasq;
  try {
    const dnsmasqPort = await freePort();
    dnsmasq = startPinned(serverCore, 'dnsmasq', [
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
    const servers = { ours: ours.ports.dns, dnsmasq: dnsmasqPort };
    writeFileSync(join(dir, 'dns-probe'), `${queries[0]}\n`);
    for (const port of Object.values(servers)) await waitForDns(port, loadCore, join(dir, 'dns-probe'));
    const samples = { ours: [], dnsmasq: [] };
    const pids = { ours: ours.handle.pid, dnsmasq: dnsmasq.pid };
    const rest = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, memoryMB(pid).rss]));
    for (let r = 0; r < rounds; r++) {
      log(`round ${r + 1}/${rounds}`);
      for (const [server, port] of Object.entries(servers)) {
        const { code, stdout, stderr } = await runPinned(
          loadCore,
          'dnsperf',
          [
            '-s',
            '127.0.0.1',
            '-p',
            String(port),
            '-d',
            queryFile,
            '-l',
            String(durationSec),
            '-t',
            '2',
            '-q',
            '100',
            '-c',
            '1',
            '-T',
            '1',
          ],
          { timeoutMs: (durationSec + 20) * 1000 },
        );
        if (code !== 0) throw new Error(`dnsperf against ${server} failed (${code}): ${stderr || stdout}`);
        samples[server].push(parseDnsperf(stdout));
      }
    }
    const memory = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, memoryMB(pid)]));
    const m = (server, field) => median(samples[server].map((s) => s[field]));
    const lost = (server) => samples[server].reduce((a, s) => a + s.lost, 0);
    const sent = (server) => samples[server].reduce((a, s) => a + s.sent, 0);
    const rows = [
      {
        what: `DNS playback: queries/s (${names} names, UDP, 100 outstanding)`,
        ours: round(m('ours', 'qps')),
        peer: round(m('dnsmasq', 'qps')),
        peerName: 'dnsmasq',
        ratio: m('ours', 'qps') / m('dnsmasq', 'qps'),
        target: '≥ 0.7, none lost',
        met: m('ours', 'qps') / m('dnsmasq', 'qps') >= 0.7 && lost('ours') === 0,
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
        what: `DNS playback: RSS MB at rest (${names} names) / peak under the load above`,
        ours: `${round(rest.ours)} / ${round(memory.ours.peak)}`,
        peer: `${round(rest.dnsmasq)} / ${round(memory.dnsmasq.peak)}`,
        peerName: 'dnsmasq',
        ratio: memory.ours.peak / memory.dnsmasq.peak,
        ratioLabel: 'peak',
      },
    ];
    return { rows, raw: { samples, memory, rest } };
  } finally {
    await ours.handle.stop();
    await dnsmasq?.stop();
  }
}
