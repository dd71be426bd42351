import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseKeyvals } from '../../lib/keyval.js';
import { fixtureTestsDir } from '../helpers/job.js';
import { useLab } from '../helpers/lab.js';
import { runInServer, serverState, sshArgs } from '../helpers/recall-journey.js';
import { isRoot } from '../helpers/root.js';

// IPv6 for the lab, made by this test in the lab's own namespaces: 2001:2::/48 is IPv6's benchmarking block
// (RFC 5180), the counterpart of the lab's 198.18.0.0/15.
const DEVICE_NET6 = { server: '2001:2:0:1::1', device: '2001:2:0:1::2' };
const INTERNET_NET6 = { server: '2001:2:0:2::1', internet: '2001:2:0:2::10' };

// Counted where they would arrive: every TCP and UDP packet and every ping reaching the internet namespace.
const COUNTED = {
  iptables: [
    ['-p', 'tcp'],
    ['-p', 'udp'],
    ['-p', 'icmp', '--icmp-type', 'echo-request'],
  ],
  ip6tables: [
    ['-p', 'tcp'],
    ['-p', 'udp'],
    ['-p', 'ipv6-icmp', '--icmpv6-type', 'echo-request'],
  ],
} as const;

describe.skipIf(!isRoot)('playback is hermetic: nothing of the device leaves the server (needs root)', () => {
  const lab = useLab({ devices: 1 });
  const root = mkdtempSync(join(tmpdir(), 'recall-hermetic-'));
  const testDir = (run: string) => join(root, run, 'test_RecallServer', 'test_RecallServer');
  const inNs = (ns: string, ...cmd: string[]) =>
    execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });
  let v4Target = '';

  /** Packets the internet namespace has received since the last reset, per protocol and family. */
  const arrivals = () => {
    const internet = lab().internet.namespace;
    const counts: Record<string, number> = {};
    for (const tool of ['iptables', 'ip6tables'] as const) {
      const listing = inNs(internet, tool, '-w', '-t', 'raw', '-v', '-S', 'PREROUTING');
      for (const [, protocol, packets] of listing.matchAll(/^-A PREROUTING -p (\S+) .*-c (\d+) \d+$/gm)) {
        counts[`${tool}:${protocol}`] = Number(packets);
      }
    }
    return counts;
  };
  const resetArrivals = () => {
    for (const tool of ['iptables', 'ip6tables'] as const)
      inNs(lab().internet.namespace, tool, '-w', '-t', 'raw', '-Z', 'PREROUTING');
  };

  beforeAll(() => {
    const status = lab();
    const server = status.serverNamespace;
    const internet = status.internet.namespace;
    const device = status.devices[0]!;
    v4Target = status.internet.dnsAddress;
    const lanDev = /\bdev (\S+)/.exec(inNs(server, 'ip', 'route', 'get', device.address))![1]!;
    const upDev = /\bdev (\S+)/.exec(inNs(server, 'ip', 'route', 'get', v4Target))![1]!;
    const internetDev = /\bdev (\S+)/.exec(
      inNs(internet, 'ip', '-o', '-4', 'addr', 'show', 'to', v4Target).replace(/^\d+: (\S+)/, 'dev $1'),
    )![1]!;
    inNs(server, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1');
    inNs(server, 'ip', '-6', 'addr', 'add', `${DEVICE_NET6.server}/64`, 'dev', lanDev, 'nodad');
    inNs(server, 'ip', '-6', 'addr', 'add', `${INTERNET_NET6.server}/64`, 'dev', upDev, 'nodad');
    inNs(device.namespace, 'ip', '-6', 'addr', 'add', `${DEVICE_NET6.device}/64`, 'dev', 'eth0', 'nodad');
    inNs(device.namespace, 'ip', '-6', 'route', 'add', '2001:2:0:2::/64', 'via', DEVICE_NET6.server);
    inNs(internet, 'ip', '-6', 'addr', 'add', `${INTERNET_NET6.internet}/64`, 'dev', internetDev, 'nodad');
    inNs(internet, 'ip', '-6', 'route', 'add', '2001:2:0:1::/64', 'via', INTERNET_NET6.server);
    for (const tool of ['iptables', 'ip6tables'] as const) {
      for (const match of COUNTED[tool])
        inNs(internet, tool, '-w', '-t', 'raw', '-A', 'PREROUTING', ...match);
    }
  });

  const run = (name: string, args: string) =>
    runInServer(lab(), 'run-remote', [
      '--remote',
      lab().devices[0]!.address,
      ...sshArgs(lab()),
      '--tests-dir',
      fixtureTestsDir,
      '--results-dir',
      join(root, name),
      'test_RecallServer',
      '-a',
      args,
    ]);
  const probeArgs = () =>
    `urls=http://static.lab.test/,https://static.lab.test/ v4=${v4Target} v6=${INTERNET_NET6.internet}`;
  const outcomes = (name: string) =>
    parseKeyvals(readFileSync(join(testDir(name), 'fixture_Escape', 'results', 'keyval'), 'utf8'), {
      stripTypes: true,
    });

  it('while recording, the probes do reach the internet namespace, over IPv4 and IPv6 (the counters work)', async () => {
    resetArrivals();
    const recorded = await run('record', `fixture_Escape ${probeArgs()}`);
    expect(recorded.code, recorded.stdout + recorded.stderr).toBe(0);
    const counts = arrivals();
    expect(counts['iptables:tcp'], JSON.stringify(counts)).toBeGreaterThan(0);
    expect(counts['iptables:udp'], JSON.stringify(counts)).toBeGreaterThan(0);
    expect(counts['ip6tables:tcp'], JSON.stringify(counts)).toBeGreaterThan(0);
    expect(counts['ip6tables:udp'], JSON.stringify(counts)).toBeGreaterThan(0);
  }, 240_000);

  it('in playback, with the internet namespace still up, not one packet reaches it, and every attempt fails at once', async () => {
    const before = serverState(lab());
    resetArrivals();
    const archive = join(testDir('record'), 'archive.har.gz');
    const replayed = await run('replay', `fixture_Escape ${archive} strict=1 ${probeArgs()}`);
    expect(replayed.code, replayed.stdout + replayed.stderr).toBe(0);
    expect(arrivals()).toEqual({
      'iptables:tcp': 0,
      'iptables:udp': 0,
      'iptables:icmp': 0,
      'ip6tables:tcp': 0,
      'ip6tables:udp': 0,
      'ip6tables:ipv6-icmp': 0,
    });
    // Refused by the gateway (a reset or ICMP unreachable), not dropped: clients fall back or fail without waiting.
    expect(outcomes('replay')).toEqual({
      tcp4_8080: 'ECONNREFUSED',
      tcp4_22: 'ECONNREFUSED',
      udp4_443: 'ECONNREFUSED',
      udp4_5353: 'ECONNREFUSED',
      tcp6_443: 'ECONNREFUSED',
      tcp6_80: 'ECONNREFUSED',
      udp6_443: 'ECONNREFUSED',
    });
    // The seal went with the run: nothing of it is left in the server's nat or filter tables.
    expect(serverState(lab())).toEqual(before);
    const filter =
      inNs(lab().serverNamespace, 'iptables', '-w', '-S') +
      inNs(lab().serverNamespace, 'ip6tables', '-w', '-S');
    expect(filter).not.toMatch(/RECALL-/);
  }, 240_000);
});
