// The whole reproduction of issue 16: desktopui_UrlFetch recorded in the lab under test_RecallServer (real device,
// real Chromium, the lab's internet), then, with the lab gone, reproduced from its results folder alone:
// client-side against the run's archive, and DevTools-side with no browser at all.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionLog } from '../../client/index.js';
import { parseKeyvals } from '../../lib/keyval.js';
import { iterationKeyvals } from '../../server/session-replay/devtools-replay.js';
import { startCli, type CliResult } from '../helpers/cli.js';
import { useLab } from '../helpers/lab.js';
import { runInServer, sshArgs } from '../helpers/recall-journey.js';
import { isRoot } from '../helpers/root.js';

/** Runs session-replay, noting every process that is a child of it while it runs. */
async function sessionReplay(args: string[]): Promise<CliResult & { chromiumChildren: string[] }> {
  const { child, done } = startCli('session-replay', args);
  const seen = new Set<string>();
  const timer = setInterval(() => {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === child.pid) seen.add(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
      } catch {
        // The process ended while being read.
      }
    }
  }, 20);
  const result = await done;
  clearInterval(timer);
  return { ...result, chromiumChildren: [...seen].filter((command) => command.includes('chromium')) };
}

/** SHA-256 of the page HTML in each page-state evaluation of a session log, in order: the test's page digests. */
function pageDigestsOf(logFile: string): string[] {
  const log = SessionLog.read(logFile);
  const out: string[] = [];
  for (const browser of log.browsers) {
    const evaluations = new Set(browser.records.filter((r) => r.type === 'command' && r.method === 'Runtime.evaluate').map((r) => (r as { id: number }).id));
    for (const record of browser.records) {
      if (record.type !== 'response' || !evaluations.has(record.id)) continue;
      const value = log.resolve(record.result as { result: { value: string } }).result.value;
      out.push(createHash('sha256').update((JSON.parse(value) as { html: string }).html).digest('hex'));
    }
  }
  return out;
}

describe.skipIf(!isRoot)('session-replay of desktopui_UrlFetch recorded in the lab (needs root)', () => {
  const lab = useLab({ devices: 1 });
  const root = mkdtempSync(join(tmpdir(), 'session-replay-urlfetch-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const serverTestDir = join(root, 'results', 'test_RecallServer', 'test_RecallServer');
  // One iteration: the client test's folder has no iteration tag.
  const testDir = join(serverTestDir, 'desktopui_UrlFetch');
  const labDigests = () =>
    Object.entries(parseKeyvals(readFileSync(join(testDir, 'results', 'keyval'), 'utf8')))
      .filter(([key]) => key.endsWith('_html_sha256{attr}'))
      .map(([, value]) => String(value));

  it('records the run in the lab: devtools.jsonl comes back with the results, beside the Recall archive', async () => {
    const run = await runInServer(lab(), 'run-remote', ['--remote', lab().devices[0]!.address, ...sshArgs(lab()), '--results-dir', join(root, 'results'), 'test_RecallServer', '-a', 'desktopui_UrlFetch']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(existsSync(join(serverTestDir, 'archive.har.gz'))).toBe(true);
    const log = SessionLog.read(join(testDir, 'devtools.jsonl'));
    expect(log.header.test).toBe('desktopui_UrlFetch');
    expect(log.browsers.length).toBe(1);
    expect(labDigests().length).toBeGreaterThanOrEqual(8);
    // Reproduction needs nothing of the lab from here on.
    await lab.lab().down();
  }, 400_000);

  it('client-side replay, offline, gives the same page digests as the lab run', async () => {
    const replayed = join(root, 'client-replay');
    const run = await sessionReplay(['client', testDir, '--json', '--record', replayed]);
    const report = JSON.parse(run.stdout || '{}') as { commands: number; divergences: { kind: string; method: string; message: string }[] };
    expect(report.divergences.filter((d) => d.kind !== 'event-missing'), run.stdout + run.stderr).toEqual([]);
    expect(report.commands).toBeGreaterThan(40);
    // The same set of pages (keyvals are written sorted by key, the log in visiting order).
    expect(pageDigestsOf(join(replayed, 'devtools.jsonl')).sort()).toEqual(labDigests().sort());
    expect(run.chromiumChildren.length).toBeGreaterThan(0);
  }, 300_000);

  it('DevTools-side replay gives GOOD with the lab run\'s keyvals, and starts no Chromium', async () => {
    const out = join(root, 'devtools-replay');
    const run = await sessionReplay(['devtools', testDir, '--out', out]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^desktopui_UrlFetch: GOOD \(lab run: GOOD\), 0 keyval difference\(s\), 0 command\(s\) not in the log/);
    expect(iterationKeyvals(join(out, 'desktopui_UrlFetch', 'results', 'keyval'))).toEqual(iterationKeyvals(join(testDir, 'results', 'keyval')));
    expect(run.chromiumChildren).toEqual([]);
  }, 300_000);

  it('a log with one result altered gives a divergence report naming the command; a truncated one a one-line error', async () => {
    const altered = join(root, 'altered', 'desktopui_UrlFetch');
    cpSync(testDir, altered, { recursive: true });
    cpSync(join(serverTestDir, 'archive.har.gz'), join(root, 'altered', 'archive.har.gz'));
    const lines = readFileSync(join(altered, 'devtools.jsonl'), 'utf8').split('\n');
    const navigate = lines.findIndex((line) => line.includes('"method":"Page.navigate"') && line.includes('static.lab.test'));
    const id = (JSON.parse(lines[navigate]!) as { id: number }).id;
    const answer = lines.findIndex((line, index) => index > navigate && line.startsWith('{"type":"response"') && line.includes(`"id":${id},`));
    lines[answer] = lines[answer]!.replace(/"result":\{/, '"result":{"errorText":"net::ERR_ALTERED",');
    writeFileSync(join(altered, 'devtools.jsonl'), lines.join('\n'));
    const run = await sessionReplay(['client', altered]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain(`DIVERGED Page.navigate (line ${navigate + 1}) answers differently: result.errorText: "net::ERR_ALTERED" → absent`);

    const cut = join(root, 'cut', 'desktopui_UrlFetch');
    cpSync(testDir, cut, { recursive: true });
    const text = readFileSync(join(cut, 'devtools.jsonl'), 'utf8');
    writeFileSync(join(cut, 'devtools.jsonl'), text.slice(0, text.length - 10));
    const truncated = await sessionReplay(['devtools', cut]);
    expect(truncated.code).toBe(2);
    expect(truncated.stderr.trim().split('\n')).toHaveLength(1);
    expect(truncated.stderr).toContain('is truncated');
  }, 300_000);
});
