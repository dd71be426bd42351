// 5. SSH and 6. scaling, on one virtual lab of 16 devices (server/lab): a trivial command through SSHHost versus
// the OpenSSH client without and with ControlMaster, then autoserv running a short client test (dummy_Pass)
// through parallelSimple over 1, 4 and 16 devices.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../dist/server/lab/lab.js';
import { runPinned } from './lib/processes.js';
import { median, percentile, round } from './lib/stats.js';

const repo = new URL('..', import.meta.url).pathname;
const SSH_CLIENT = new URL('./clients/ssh-runs.js', import.meta.url).pathname;

/** Sets the CPU affinity of this process and all its threads (children inherit it). */
function pinSelf(cores) {
  execFileSync('taskset', ['-a', '-cp', cores, String(process.pid)], { stdio: 'ignore' });
}

export async function withLab(devices, log, fn) {
  const name = `bch${randomBytes(3).toString('hex').slice(0, 5)}`;
  log(`lab up ${name} with ${devices} devices`);
  // The lab's processes (sshd on every device) inherit our affinity: give them both cores.
  pinSelf('0,1');
  let lab;
  try {
    lab = await Lab.up({ name, devices });
    return await fn(lab.status());
  } finally {
    log(`lab down ${name}`);
    if (lab) await lab.down();
    else await Lab.downByName(name).catch(() => {});
  }
}

export async function runSsh({ status, dir, config, log }) {
  const { loadCore, count, maxMs } = config.ssh;
  const device = status.devices[0];
  const raw = {};
  for (const mode of ['sshhost', 'sshhost-shell', 'ssh', 'ssh-cm', 'ssh2-nodelay']) {
    log(`${count} x true via ${mode}`);
    const { code, stdout, stderr } = await runPinned(
      loadCore,
      process.execPath,
      [
        SSH_CLIENT,
        JSON.stringify({
          mode,
          count,
          maxMs,
          command: 'true',
          address: device.address,
          sshKey: status.sshKey,
          knownHosts: status.knownHosts,
          controlPath: join(dir, 'cm-%C'),
        }),
      ],
      { timeoutMs: maxMs + 60_000 },
    );
    if (code !== 0) throw new Error(`ssh client (${mode}) failed (${code}): ${stderr.slice(-800)}`);
    const { times } = JSON.parse(stdout.trim().split('\n').pop());
    raw[mode] = { times, count: times.length, medianMs: median(times), p99Ms: percentile(times, 99) };
  }
  const { sshhost, 'sshhost-shell': shell, ssh, 'ssh-cm': cm, 'ssh2-nodelay': nodelay } = raw;
  const rows = [
    {
      what: `SSH: \`true\`, reused connection, persistentShell vs exec channel, ms (median of ${shell.count})`,
      ours: round(shell.medianMs),
      peer: round(sshhost.medianMs),
      peerName: 'SSHHost, exec channel',
      ratio: shell.medianMs / sshhost.medianMs,
      target: '≤ 3 ms (ours)',
      met: shell.medianMs <= 3,
    },
    {
      what: 'SSH: `true`, persistentShell vs exec channel, p99 ms',
      ours: round(shell.p99Ms),
      peer: round(sshhost.p99Ms),
      peerName: 'SSHHost, exec channel',
      ratio: shell.p99Ms / sshhost.p99Ms,
    },
    {
      what: `SSH: \`true\` on a device, reused connection, ms (median of ${sshhost.count})`,
      ours: round(sshhost.medianMs),
      peer: round(cm.medianMs),
      peerName: 'ssh + ControlMaster',
      ratio: sshhost.medianMs / cm.medianMs,
      target: '≤ 3 ms (ours)',
      met: sshhost.medianMs <= 3,
    },
    {
      what: `SSH: \`true\` on a device, ms (median of ${ssh.count})`,
      ours: round(sshhost.medianMs),
      peer: round(ssh.medianMs),
      peerName: 'ssh, new connection each',
      ratio: sshhost.medianMs / ssh.medianMs,
    },
    {
      what: 'SSH: `true`, ssh2 with TCP_NODELAY (SSHHost without Nagle), ms (median)',
      ours: round(nodelay.medianMs),
      peer: round(cm.medianMs),
      peerName: 'ssh + ControlMaster',
      ratio: nodelay.medianMs / cm.medianMs,
    },
    {
      what: 'SSH: p99 ms',
      ours: round(sshhost.p99Ms),
      peer: round(cm.p99Ms),
      peerName: 'ssh + ControlMaster',
      ratio: sshhost.p99Ms / cm.p99Ms,
    },
  ];
  return { rows, raw };
}

/**
 * Runs autoserv on `devices` (each running `fixture_ClientSleep` for `sleepSec`: a client test that waits, so the
 * devices' own work does not compete for the two cores); resolves with its wall time, the CPU the autoserv process
 * and its children used (user + system, from /usr/bin/time), and the devices whose tests did not end GOOD.
 */
async function autoserv(devices, status, dir, sleepSec) {
  const results = join(mkdtempSync(join(dir, 'autoserv-')), 'results');
  const args = [
    '-f',
    'CPU %U %S',
    process.execPath,
    join(repo, 'bin/autoserv.js'),
    '-r',
    results,
    '-m',
    devices.map((d) => d.address).join(','),
    '--ssh-key',
    status.sshKey,
    '--known-hosts',
    status.knownHosts,
    '--tests-dir',
    join(repo, 'test/fixtures/tests'),
    '-a',
    `tests=fixture_ClientSleep sleep=${sleepSec}`,
    join(repo, 'test/fixtures/control/client-tests.ts'),
  ];
  const start = Date.now();
  const { code, stderr, stdout } = await runPinned('0,1', '/usr/bin/time', args, {
    timeoutMs: 180_000,
    cwd: repo,
  });
  const ms = Date.now() - start;
  const cpu = /^CPU ([\d.]+) ([\d.]+)$/m.exec(stderr);
  let tests;
  try {
    tests = JSON.parse(readFileSync(join(results, 'results.json'), 'utf8')).tests;
  } catch {
    throw new Error(
      `autoserv on ${devices.length} devices exited ${code} without results.json: ${(stderr || stdout).slice(-1500)}`,
    );
  }
  const failed = tests.filter((t) => t.status !== 'GOOD');
  if (code !== 0 && failed.length === 0)
    throw new Error(
      `autoserv on ${devices.length} devices exited ${code}: ${(stderr || stdout).slice(-1500)}`,
    );
  return {
    ms,
    cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN,
    failed: failed.map((t) => `${t.machine}: ${t.status} ${t.reason ?? ''}`.trim()),
  };
}

export async function runScaling({ status, dir, config, log }) {
  const { sizes, rounds, sleepSec } = config.scaling;
  log(`warm-up: autoserv on all ${status.devices.length} devices (installs the client and the test)`);
  const warm = await autoserv(status.devices, status, dir, 1);
  const samples = Object.fromEntries(sizes.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}`);
    for (const n of sizes) samples[n].push(await autoserv(status.devices.slice(0, n), status, dir, sleepSec));
  }
  const wall = (n) => median(samples[n].map((s) => s.ms));
  const cpuPerDevice = (n) => median(samples[n].map((s) => s.cpuMs / n));
  const failures = (n) => samples[n].reduce((a, s) => a + s.failed.length, 0);
  const one = wall(sizes[0]);
  const test = `fixture_ClientSleep ${sleepSec} s`;
  const rows = sizes.slice(1).flatMap((n) => [
    {
      what: `Scaling: autoserv ${test} on ${n} devices vs 1, wall s (median of ${rounds})${failures(n) ? ` (${failures(n)} of ${n * rounds} device runs not GOOD)` : ''}`,
      ours: round(wall(n) / 1000),
      peer: round(one / 1000),
      peerName: '1 device',
      ratio: wall(n) / one,
      target: n === 16 ? '≤ 1.3' : undefined,
      met: n === 16 ? wall(n) / one <= 1.3 && failures(n) === 0 : undefined,
    },
    {
      what: `Scaling: autoserv CPU per device job (user + system of autoserv and its children), ${n} devices vs 1, ms`,
      ours: round(cpuPerDevice(n)),
      peer: round(cpuPerDevice(sizes[0])),
      peerName: '1 device',
      ratio: cpuPerDevice(n) / cpuPerDevice(sizes[0]),
    },
  ]);
  return { rows, raw: { warm, samples } };
}
