// A HAR exported by Chrome's developer tools played back to a lab device (issue 17.5, in the lab): test_RecallServer
// with archive=FILE, the device resolving the archive's hosts through Recall's DNS (made-up answers: the HAR holds
// none), fetching over HTTPS and HTTP with curl (no --compressed: br, deflate and binary bodies must arrive decoded,
// byte for byte), strict=1 so any miss fails. Needs root (network namespaces, iptables inside the lab).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKeyvals } from '../../lib/keyval.js';
import { fixtureTestsDir } from '../helpers/job.js';
import { useLab } from '../helpers/lab.js';
import { runInServer, sshArgs } from '../helpers/recall-journey.js';
import { isRoot } from '../helpers/root.js';
import { EXPECTATIONS, archiveBytes } from '../fixtures/archives/foreign-hars.js';

const URLS = [
  'https://www.shop.test/',
  'https://www.shop.test/style.css',
  'https://www.shop.test/logo.gif',
  'http://static.shop.test/robots.txt',
];

describe.skipIf(!isRoot)('a Chrome HAR played back to a lab device (needs root)', () => {
  const lab = useLab({ devices: 1 });
  const root = mkdtempSync(join(tmpdir(), 'recall-interop-lab-'));

  it('serves every page decoded and byte-exact to curl on the device, with no miss', async () => {
    const archive = join(root, 'chrome.har');
    writeFileSync(archive, archiveBytes('chrome'));
    const results = join(root, 'results');
    const run = await runInServer(lab(), 'run-remote', [
      '--remote',
      lab().devices[0]!.address,
      ...sshArgs(lab()),
      '--tests-dir',
      fixtureTestsDir,
      '--results-dir',
      results,
      'test_RecallServer',
      '-a',
      `fixture_Curl archive=${archive} strict=1 urls=${URLS.join(',')}`,
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const testDir = join(results, 'test_RecallServer', 'test_RecallServer');
    const keyvals = parseKeyvals(readFileSync(join(testDir, 'fixture_Curl', 'results', 'keyval'), 'utf8'), {
      stripTypes: true,
    });
    URLS.forEach((url, i) => {
      const body = EXPECTATIONS.find((e) => e.url === url)!.body;
      expect(keyvals[`url${i}_sha256`], url).toBe(createHash('sha256').update(body).digest('hex'));
    });
    expect(readFileSync(join(testDir, 'results', 'keyval'), 'utf8')).toMatch(/recall_misses\{perf\}=0/);
  }, 600_000);
});
