import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKeyvals } from '../../lib/keyval.js';
import { useLab } from '../helpers/lab.js';
import { runInServer, sshArgs } from '../helpers/recall-journey.js';
import { isRoot } from '../helpers/root.js';

const pageDigests = (dir: string) =>
  Object.fromEntries(Object.entries(parseKeyvals(readFileSync(join(dir, 'results', 'keyval'), 'utf8'))).filter(([k]) => k.endsWith('_html_sha256{attr}')));

describe.skipIf(!isRoot)('desktopui_UrlFetch in Chromium through Recall (needs root)', () => {
  const lab = useLab({ devices: 1 });
  const root = mkdtempSync(join(tmpdir(), 'recall-urlfetch-'));

  it('records the lab sites, then plays them back with the same pages, scripts included', async () => {
    const dir = join(root, 'record');
    const run = await runInServer(lab(), 'run-remote', ['--remote', lab().devices[0]!.address, ...sshArgs(lab()), '--results-dir', dir, 'test_RecallServer', '-a', 'desktopui_UrlFetch num_iterations=2']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const testDir = join(dir, 'test_RecallServer', 'test_RecallServer');
    const recorded = pageDigests(join(testDir, 'desktopui_UrlFetch.iteration1'));
    expect(Object.keys(recorded).length).toBeGreaterThanOrEqual(8);
    // dynamic.lab.test's scripts read Date and Math.random: the injected script makes them replay identically.
    expect(pageDigests(join(testDir, 'desktopui_UrlFetch.iteration2'))).toEqual(recorded);
    expect(readFileSync(join(testDir, 'results', 'keyval'), 'utf8')).toMatch(/recall_misses\{perf\}=0/);
  }, 400_000);

  it('passes through Recall as a plain proxy', async () => {
    const dir = join(root, 'proxy');
    const run = await runInServer(lab(), 'run-remote', ['--remote', lab().devices[0]!.address, ...sshArgs(lab()), '--results-dir', dir, 'test_RecallServer', '-a', 'desktopui_UrlFetch proxy_only=1']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^desktopui_UrlFetch\s+\S+\s+GOOD/m);
    // The proxy speaks h2 where the real server does, WebSocket over h2 included.
    const keyvals = parseKeyvals(readFileSync(join(dir, 'test_RecallServer', 'test_RecallServer', 'desktopui_UrlFetch', 'results', 'keyval'), 'utf8'));
    expect(keyvals['https_h2.lab.test_protocol{attr}']).toBe('h2');
    expect(keyvals['https_h2.lab.test_ticker_websocket_handshakes{attr}']).toBe(200);
  }, 400_000);
});
