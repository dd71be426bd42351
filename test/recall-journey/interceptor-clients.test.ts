import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SSHHost } from '../../server/hosts/index.js';
import { fixtureTestsDir } from '../helpers/job.js';
import { useLab } from '../helpers/lab.js';
import { connect, sshArgs, startInServer } from '../helpers/recall-journey.js';
import { isRoot } from '../helpers/root.js';

const until = async (what: () => boolean, timeoutMs = 120_000) => {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

// Two devices on one lab network: Recall intercepts the first; the second tries to use its interceptors directly.
describe.skipIf(!isRoot)('only the device under test may use its interceptors (needs root)', () => {
  const lab = useLab({ devices: 2 });
  const root = mkdtempSync(join(tmpdir(), 'recall-clients-'));
  let intercepted: SSHHost;
  let other: SSHHost;
  let run: ReturnType<typeof startInServer>;
  const ports: { tcp: number[]; udp: number[] } = { tcp: [], udp: [] };

  beforeAll(async () => {
    intercepted = await connect(lab(), 0);
    other = await connect(lab(), 1);
    const dir = join(root, 'run');
    run = startInServer(lab(), 'autoserv', [
      '-m',
      lab().devices[0]!.address,
      ...sshArgs(lab()),
      '--tests-dir',
      fixtureTestsDir,
      '-r',
      dir,
      '-a',
      'fixture_ClientSleep seconds=60',
      join(fixtureTestsDir, '..', '..', '..', 'site_tests', 'test_RecallServer', 'control.ts'),
    ]);
    const statusLog = join(dir, 'status.log');
    await until(
      () =>
        existsSync(statusLog) &&
        readFileSync(statusLog, 'utf8').includes('START\ttest_RecallServer/fixture_ClientSleep'),
    );
    // The interceptors' ports: what this run's node process listens on at the server's device-side address.
    const listening = execFileSync(
      'ip',
      ['netns', 'exec', lab().serverNamespace, 'ss', '-Hlntup', 'src', lab().serverAddress],
      { encoding: 'utf8' },
    );
    for (const [, protocol, port] of listening.matchAll(/^(tcp|udp)\s.*?:(\d+)\s.*node/gm))
      ports[protocol as 'tcp' | 'udp'].push(Number(port));
  }, 180_000);

  afterAll(async () => {
    run?.child.kill('SIGTERM');
    await run?.done;
    await intercepted?.close();
    await other?.close();
  }, 120_000);

  /** What a host gets from each interceptor: the HTTP status over http:// and https://, and DNS answers over UDP and TCP. */
  async function tryInterceptors(host: SSHHost) {
    const server = lab().serverAddress;
    const statuses: string[] = [];
    for (const port of ports.tcp) {
      for (const scheme of ['http', 'https']) {
        const answer = await host.run(
          `curl -sk -o /dev/null -w '%{http_code}' --max-time 5 ${scheme}://${server}:${port}/_recall/ca.pem`,
          { ignoreStatus: true },
        );
        if (answer.stdout === '200') statuses.push(`${scheme} ${port}`);
      }
    }
    const dig = async (transport: string) =>
      (
        await host.run(
          `dig ${transport} +short +time=2 +tries=1 -p ${ports.udp[0]} @${server} static.lab.test A`,
          { ignoreStatus: true },
        )
      ).stdout.trim();
    return { statuses, udp: await dig('+notcp'), tcp: await dig('+tcp') };
  }

  it('answers the device under test on every interceptor', async () => {
    expect(ports.tcp).toHaveLength(3); // DNS over TCP, HTTP, HTTPS
    expect(ports.udp).toHaveLength(1);
    const seen = await tryInterceptors(intercepted);
    expect(seen.statuses).toHaveLength(2);
    expect(seen.statuses.map((s) => s.split(' ')[0]).sort()).toEqual(['http', 'https']);
    expect(seen.udp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(seen.tcp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('refuses another host on the device network, over HTTP, HTTPS and DNS (UDP and TCP)', async () => {
    const seen = await tryInterceptors(other);
    expect(seen.statuses).toEqual([]);
    expect(seen.udp).not.toMatch(/^\d+\.\d+\.\d+\.\d+$/m);
    expect(seen.tcp).not.toMatch(/^\d+\.\d+\.\d+\.\d+$/m);
  });
});
