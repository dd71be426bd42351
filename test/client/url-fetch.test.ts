// desktopui_UrlFetch on a lab device, straight against the lab's internet: real Chromium, real DNS, real TLS
// (the device trusts the lab CA through root's NSS database, as Chromium on Linux requires).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseKeyvals } from '../../lib/keyval.js';
import { collectTestResults } from '../../lib/results/test-results.js';
import { createHost } from '../../server/hosts/index.js';
import { runCli } from '../helpers/cli.js';
import { fixtureTestsDir } from '../helpers/job.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';

const control = new URL('../fixtures/control/url-fetch.ts', import.meta.url).pathname;

describe.skipIf(!isRoot)('desktopui_UrlFetch on a lab device (needs root)', () => {
  const lab = useLab({ devices: 1 });
  const tempDirs: string[] = [];
  afterAll(() => {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  const run = async (args: string) => {
    const temp = mkdtempSync(join(tmpdir(), 'url-fetch-'));
    tempDirs.push(temp);
    const dir = join(temp, 'results');
    const device = lab().devices[0]!.address;
    const result = await runCli('autoserv', ['-r', dir, '-m', device, '--ssh-key', lab().sshKey, '--known-hosts', lab().knownHosts, '--tests-dir', fixtureTestsDir, ...(args ? ['-a', args] : []), control]);
    const status = readFileSync(join(dir, 'status.log'), 'utf8');
    return { result, status, dir, tests: collectTestResults(status).tests };
  };

  it('loads every lab site over HTTP and HTTPS and records status, bytes, load time and a digest per URL', async () => {
    const { result, status, dir, tests } = await run('');
    expect(result.code, status + result.stderr).toBe(0);
    expect(tests.map((t) => [t.name, t.status])).toEqual([['desktopui_UrlFetch', 'GOOD']]);
    const keyvals = parseKeyvals(readFileSync(join(dir, 'desktopui_UrlFetch', 'results', 'keyval'), 'utf8'));
    expect(keyvals['urls{perf}']).toBe(12);
    expect(keyvals['urls_failed{perf}']).toBe(0);
    for (const key of ['https_static.lab.test', 'http_static.lab.test', 'https_dynamic.lab.test', 'http_redirect.lab.test', 'https_shared-b.lab.test']) {
      expect(keyvals[`${key}_status{perf}`], key).toBe(200);
      expect(keyvals[`${key}_bytes{perf}`], key).toBeGreaterThan(0);
      expect(keyvals[`${key}_load_ms{perf}`], key).toBeGreaterThanOrEqual(0);
      expect(keyvals[`${key}_html_sha256{attr}`], key).toMatch(/^[0-9a-f]{64}$/);
    }
    // Every DevTools message came back with the results, one JSON record a line, for session-replay.
    const log = readFileSync(join(dir, 'desktopui_UrlFetch', 'devtools.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; method?: string });
    expect(log[0]).toMatchObject({ type: 'header', format: 'autotest-devtools-log', test: 'desktopui_UrlFetch' });
    expect(log.filter((r) => r.type === 'command' && r.method === 'Page.navigate')).toHaveLength(12);
    // Scripts ran: the static page's app.js and the dynamic page's clock and Math.random.
    expect(keyvals['https_static.lab.test_text_app{attr}']).toBe('app.js ran');
    expect(Number(keyvals['https_dynamic.lab.test_text_random{attr}'])).toBeLessThan(1);
    // The h2 site came over h2 and the others over HTTP/1.1, as Chromium reports; its WebSocket page opened the
    // socket on that h2 connection (extended CONNECT, handshake 200), the ticker site's with an Upgrade (101).
    expect(keyvals['https_h2.lab.test_protocol{attr}']).toBe('h2');
    expect(keyvals['https_static.lab.test_protocol{attr}']).toBe('http/1.1');
    expect(keyvals['https_h2.lab.test_ticker_websocket_handshakes{attr}']).toBe(200);
    expect(keyvals['https_h2.lab.test_ticker_text_state{attr}']).toBe('done');
    // Redirects were followed: within a site, and to another site (whose page is then the static one).
    expect(keyvals['http_redirect.lab.test_final_url{attr}']).toBe('http://redirect.lab.test/final');
    expect(keyvals['http_redirect.lab.test_redirects{perf}']).toBe(1);
    expect(keyvals['https_redirect.lab.test_elsewhere_final_url{attr}']).toBe('https://static.lab.test/');
    expect(keyvals['https_redirect.lab.test_elsewhere_html_sha256{attr}']).toBe(keyvals['https_static.lab.test_html_sha256{attr}']);
    // Chromium is gone from the device, and so is its profile.
    const device = lab().devices[0]!;
    const pids = execFileSync('ip', ['netns', 'pids', device.namespace], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const commands = pids.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
    expect(commands.filter((c) => c.includes('chromium'))).toEqual([]);
    await using host = await createHost(device.address, { sshKey: lab().sshKey, knownHostsFile: lab().knownHosts });
    expect((await host.run('ls /tmp')).stdout).not.toContain('autotest-chromium-');
  });

  it('fails naming each URL that 404s or cannot be reached, and honours expected statuses', async () => {
    const { dnsAddress } = lab().internet;
    const urls = ['https://static.lab.test/missing', 'https://static.lab.test/gone', 'https://nothere.lab.test/', `http://${dnsAddress}:81/`];
    const { result, status, dir, tests } = await run(`urls=${urls.join(',')} expect=https://static.lab.test/gone=404`);
    expect(result.code, status + result.stderr).toBe(1);
    expect(tests.map((t) => [t.name, t.status])).toEqual([['desktopui_UrlFetch', 'FAIL']]);
    const reason = tests[0]!.reason;
    expect(reason).toContain('3 of 4 URLs failed');
    expect(reason).toContain('https://static.lab.test/missing: main document status 404, expected 200');
    expect(reason).toContain('https://nothere.lab.test/: did not load: net::ERR_NAME_NOT_RESOLVED');
    expect(reason).toContain(`http://${dnsAddress}:81/: did not load: net::ERR_CONNECTION_REFUSED`);
    expect(reason).not.toContain('https://static.lab.test/gone');
    // Keyvals are written for every URL, failed or not, so a failed run can still be compared.
    const keyvals = parseKeyvals(readFileSync(join(dir, 'desktopui_UrlFetch', 'results', 'keyval'), 'utf8'));
    expect(keyvals['https_static.lab.test_gone_status{perf}']).toBe(404);
    expect(keyvals['https_nothere.lab.test_error{attr}']).toBe('net::ERR_NAME_NOT_RESOLVED');
  });
});
