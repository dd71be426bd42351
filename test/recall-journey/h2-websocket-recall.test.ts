// test_RecallServer with Chromium on a lab device, on the lab's HTTP/2 site, an HTTP/1.1 site and the WebSocket
// ticker over both (HTTP/1.1 Upgrade, and on the h2 site an extended CONNECT): the first iteration records from the
// real sites, the second plays back. What is asserted is what the
// browser itself reports: the protocol of every response from DevTools (h2 for h2.lab.test, whose server offers
// h2; HTTP/1.1 for the others, whose server does not), the text the pages' scripts and WebSocket frames wrote.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKeyvals } from '../../lib/keyval.js';
import { Archive } from '../../lib/recall/index.js';
import { useLab } from '../helpers/lab.js';
import { runInServer, sshArgs } from '../helpers/recall-journey.js';
import { isRoot } from '../helpers/root.js';

const URLS = ['https://h2.lab.test/', 'https://static.lab.test/', 'https://ticker.lab.test/', 'https://h2.lab.test/ticker'];

/** What the browser reported per page: protocols and the text the page's scripts wrote. */
function seen(dir: string): Record<string, string | number> {
  const keyvals = parseKeyvals(readFileSync(join(dir, 'results', 'keyval'), 'utf8'), { stripTypes: true });
  return Object.fromEntries(Object.entries(keyvals).filter(([k]) => /_(protocols?|text_\w+|html_sha256|websocket_handshakes)$/.test(k)));
}

describe.skipIf(!isRoot)('HTTP/2 and WebSocket in Chromium through test_RecallServer (needs root)', () => {
  const lab = useLab({ devices: 1 });
  const root = mkdtempSync(join(tmpdir(), 'recall-h2-ws-'));

  it('records h2 where the real server speaks it and plays each host back in its own protocol, WebSocket included', async () => {
    const dir = join(root, 'record');
    const args = `desktopui_UrlFetch urls=${URLS.join(',')} num_iterations=2 strict=1`;
    const run = await runInServer(lab(), 'run-remote', ['--remote', lab().devices[0]!.address, ...sshArgs(lab()), '--results-dir', dir, 'test_RecallServer', '-a', args]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const testDir = join(dir, 'test_RecallServer', 'test_RecallServer');

    const recorded = seen(join(testDir, 'desktopui_UrlFetch.iteration1'));
    expect(recorded).toMatchObject({
      'https_h2.lab.test_protocol': 'h2',
      'https_h2.lab.test_text_app': 'h2 app.js ran',
      'https_h2.lab.test_text_served': 'served over HTTP/2.0',
      'https_static.lab.test_protocol': 'http/1.1',
      'https_ticker.lab.test_text_state': 'done',
      'https_ticker.lab.test_text_log': 'welcomeecho:hibytes:3,2,1{"ok":true,"op":"sub"}{"tick":1}{"tick":2}{"tick":3}',
      // A WebSocket over HTTP/1.1 is answered 101; over the h2 connection (extended CONNECT, RFC 8441) 200.
      'https_ticker.lab.test_websocket_handshakes': 101,
      'https_h2.lab.test_ticker_websocket_handshakes': 200,
      'https_h2.lab.test_ticker_text_state': 'done',
    });
    // Every response of the h2 page (document, style, script, images, fetch) came over h2, none over HTTP/1.1.
    expect(recorded['https_h2.lab.test_protocols']).toMatch(/^h2:\d+$/);
    expect(recorded['https_static.lab.test_protocols']).toMatch(/^http\/1\.1:\d+$/);
    // The playback iteration saw the same protocols, pages and frames, with nothing missed or mismatched.
    expect(seen(join(testDir, 'desktopui_UrlFetch.iteration2'))).toEqual(recorded);
    const keyval = readFileSync(join(testDir, 'results', 'keyval'), 'utf8');
    expect(keyval).toMatch(/recall_misses\{perf\}=0/);
    expect(keyval).toMatch(/recall_websocket_mismatches\{perf\}=0/);

    const archive = await Archive.load(join(testDir, 'archive.har.gz'));
    expect(archive.recall.alpn).toMatchObject({ 'h2.lab.test': 'h2', 'static.lab.test': 'http/1.1' });
    const feed = archive.exchanges.find((e) => e.request.host === 'ticker.lab.test' && e.request.target === '/feed');
    // welcome, hi, echo:hi, the binary frame and its reverse, sub, ok and three ticks.
    expect(feed?.webSocketMessages?.length, 'the WebSocket conversation is in the archive').toBe(10);
  }, 400_000);
});
