import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOriginalDestination } from '../../server/net/original-destination.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot } from '../helpers/root.js';

describe('reading the original destination from conntrack', () => {
  const ends = {
    remoteAddress: '::ffff:198.18.62.2',
    remotePort: 40000,
    localAddress: '198.18.62.1',
    localPort: 35000,
  };
  it('finds the redirected connection in /proc/net/nf_conntrack and `conntrack -L` lines, and only it', () => {
    const proc = [
      'ipv4     2 tcp      6 431999 ESTABLISHED src=198.18.62.2 dst=198.18.63.9 sport=40001 dport=443 src=198.18.62.1 dst=198.18.62.2 sport=35000 dport=40001 [ASSURED] mark=0 zone=0 use=2',
      'ipv4     2 udp      17 29 src=198.18.62.2 dst=198.18.63.10 sport=40000 dport=443 [UNREPLIED] src=198.18.62.1 dst=198.18.62.2 sport=35000 dport=40000 mark=0 zone=0 use=2',
      'ipv4     2 tcp      6 431999 ESTABLISHED src=198.18.62.2 dst=198.18.63.10 sport=40000 dport=443 src=198.18.62.1 dst=198.18.62.2 sport=35000 dport=40000 [ASSURED] mark=0 zone=0 use=2',
    ].join('\n');
    expect(findOriginalDestination(proc, ends)).toEqual({ address: '198.18.63.10', port: 443 });
    const tool =
      'tcp      6 431999 ESTABLISHED src=198.18.62.2 dst=198.18.63.11 sport=40000 dport=80 src=198.18.62.1 dst=198.18.62.2 sport=35000 dport=40000 [ASSURED] mark=0 use=1\n';
    expect(findOriginalDestination(tool, ends)).toEqual({ address: '198.18.63.11', port: 80 });
    expect(findOriginalDestination(tool, { ...ends, localPort: 35001 })).toBeUndefined();
  });
});

// A client namespace (the device) routed through a server namespace where Recall's servers sit behind the real
// REDIRECT rules DeviceInterception makes; the client connects to addresses of "sites" that exist nowhere.
describe.skipIf(!isRoot)(
  'Recall names a redirected connection without SNI or Host by its original destination (needs root)',
  () => {
    const id = `${process.pid}-${randomBytes(2).toString('hex')}`;
    const serverNs = `atod-s-${id}`;
    const clientNs = `atod-c-${id}`;
    const work = mkdtempSync(join(tmpdir(), 'original-destination-'));
    const drivers: ChildProcess[] = [];
    let caFile = '';
    const inClient = (command: string) =>
      execFileSync('ip', ['netns', 'exec', clientNs, 'sh', '-c', command], {
        encoding: 'utf8',
        timeout: 30_000,
      });

    beforeAll(async () => {
      execFileSync('ip', ['netns', 'add', serverNs]);
      execFileSync('ip', ['netns', 'add', clientNs]);
      execFileSync('ip', [
        '-n',
        serverNs,
        'link',
        'add',
        's0',
        'type',
        'veth',
        'peer',
        'name',
        'c0',
        'netns',
        clientNs,
      ]);
      execFileSync('ip', ['-n', serverNs, 'addr', 'add', '198.18.62.1/24', 'dev', 's0']);
      execFileSync('ip', ['-n', clientNs, 'addr', 'add', '198.18.62.2/24', 'dev', 'c0']);
      // A second client address, served by a second Recall whose lookup goes through `conntrack -L`.
      execFileSync('ip', ['-n', clientNs, 'addr', 'add', '198.18.62.3/24', 'dev', 'c0']);
      for (const [ns, dev] of [
        [serverNs, 's0'],
        [clientNs, 'c0'],
        [serverNs, 'lo'],
        [clientNs, 'lo'],
      ] as const)
        execFileSync('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      // The sites' addresses lie beyond the server, as the internet lies beyond a lab's gateway.
      execFileSync('ip', ['-n', clientNs, 'route', 'add', '198.18.63.0/24', 'via', '198.18.62.1']);
      const startDriver = async (client: string, env: Record<string, string> = {}) => {
        const driver = spawn(
          'ip',
          [
            'netns',
            'exec',
            serverNs,
            process.execPath,
            join(repoRoot, 'test/fixtures/net/redirect-server-driver.mjs'),
            join(work, 'ca'),
            client,
            '198.18.62.1',
            's0',
            'static.example.test=198.18.63.10',
          ],
          {
            env: { ...process.env, AUTOTEST_RECALL_STATE_DIR: join(work, 'state'), ...env },
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        drivers.push(driver);
        return new Promise<string>((resolve, reject) => {
          createInterface({ input: driver.stdout! }).once('line', resolve);
          driver.once('exit', (code) => reject(new Error(`the server driver exited (${code})`)));
        });
      };
      const line = await startDriver('198.18.62.2');
      await startDriver('198.18.62.3', { ORIGINAL_DESTINATION_TABLE: join(work, 'no-such-table') });
      const { ca } = JSON.parse(line) as { ca: string };
      caFile = join(work, 'ca.pem');
      execFileSync('sh', ['-c', `cat > ${caFile}`], { input: ca });
    }, 60_000);

    afterAll(() => {
      for (const driver of drivers) driver.kill('SIGKILL');
      for (const ns of [serverNs, clientNs]) {
        for (const pid of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
        execFileSync('ip', ['netns', 'del', ns]);
      }
      rmSync(work, { recursive: true, force: true });
    });

    /** The subject alternative names of the certificate presented to a client that sends no SNI. */
    const namesPresentedTo = (address: string) =>
      inClient(
        `openssl s_client -connect ${address}:443 -noservername </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName`,
      );

    it('presents the certificate of the host the destination address was answered for', () => {
      const names = namesPresentedTo('198.18.63.10');
      expect(names).toContain('DNS:static.example.test');
      expect(names).not.toContain('198.18.62.1');
    });

    it('presents a certificate for the destination address itself when no name is known for it', () => {
      const names = namesPresentedTo('198.18.63.11');
      expect(names).toMatch(/IP Address:198\.18\.63\.11\b/);
      expect(names).not.toContain('198.18.62.1');
    });

    it('takes a request without Host, over HTTP and over HTTPS without SNI, for the original destination', () => {
      expect(inClient(`curl -sS --max-time 10 --http1.0 -H 'Host:' http://198.18.63.10/`)).toBe(
        'host=static.example.test\n',
      );
      // No SNI, no Host; the certificate must still verify for the address the client connected to.
      const answer = inClient(
        `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 10 openssl s_client -connect 198.18.63.11:443 -noservername -quiet -verify_return_error -verify_ip 198.18.63.11 -CAfile ${caFile} 2>/dev/null`,
      );
      expect(answer).toMatch(/^HTTP\/1\.[01] 200 /);
      expect(answer.endsWith('\r\n\r\nhost=198.18.63.11\n')).toBe(true);
    });

    it('finds the original destination through `conntrack -L` when the kernel has no procfs table', () => {
      expect(
        inClient(`curl -sS --max-time 10 --interface 198.18.62.3 --http1.0 -H 'Host:' http://198.18.63.10/`),
      ).toBe('host=static.example.test\n');
      expect(
        inClient(`curl -sS --max-time 10 --interface 198.18.62.3 --http1.0 -H 'Host:' http://198.18.63.12/`),
      ).toBe('host=198.18.63.12\n');
    });
  },
);
