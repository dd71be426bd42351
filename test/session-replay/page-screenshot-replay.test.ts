// The browser API's example test recorded with real headless Chromium against a Recall archive played back on
// loopback, then reproduced both ways by the session-replay command: DevTools-side (no Chromium at all) and
// client-side (a fresh Chromium, commands re-issued). Also: an altered log is reported, a broken one refused.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientJob } from '../../client/client-job.js';
import { SessionLog } from '../../client/index.js';
import { createLogger, openLevelFiles } from '../../lib/logging.js';
import { Archive } from '../../lib/recall/index.js';
import { LocalRecall } from '../../server/session-replay/local-recall.js';
import { iterationKeyvals } from '../../server/session-replay/devtools-replay.js';
import { repoRoot, startCli, type CliResult } from '../helpers/cli.js';

const PAGE = `<!doctype html><html><head><title>Replay me</title></head><body style="background:#2a6">
<h1 id="title">Session replay</h1><p id="app"></p><script src="/app.js"></script></body></html>`;

async function makeArchive(file: string): Promise<void> {
  const archive = Archive.create();
  const exchange = (target: string, type: string, body: string) => ({
    startedDateTime: new Date().toISOString(),
    timeMs: 1,
    request: { method: 'GET', scheme: 'https' as const, host: 'shot.replay.test', target, httpVersion: '1.1', headers: [['host', 'shot.replay.test']] as [string, string][], body: Buffer.alloc(0) },
    response: { status: 200, statusText: 'OK', httpVersion: '1.1', headers: [['content-type', type], ['content-length', String(Buffer.byteLength(body))]] as [string, string][], body: Buffer.from(body) },
  });
  await archive.add(exchange('/', 'text/html; charset=utf-8', PAGE));
  await archive.add(exchange('/app.js', 'text/javascript', "document.getElementById('app').textContent = 'app.js ran';"));
  await archive.add(exchange('/favicon.ico', 'image/x-icon', ''));
  await archive.save(file);
}

/** Runs session-replay, noting every Chromium that is a child of it while it runs. */
async function sessionReplay(args: string[]): Promise<CliResult & { chromiumChildren: string[] }> {
  const { child, done } = startCli('session-replay', args);
  const seen = new Set<string>();
  const timer = setInterval(() => {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === child.pid) seen.add(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
      } catch {
        // The process ended while being read.
      }
    }
  }, 20);
  const result = await done;
  clearInterval(timer);
  return { ...result, chromiumChildren: [...seen].filter((command) => command.includes('chromium')) };
}

describe('session-replay of desktopui_PageScreenshot (real Chromium, Recall archive on loopback)', () => {
  const root = mkdtempSync(join(tmpdir(), 'session-replay-shot-'));
  const results = join(root, 'results');
  const testDir = join(results, 'desktopui_PageScreenshot');
  let recall: LocalRecall;

  beforeAll(async () => {
    mkdirSync(results, { recursive: true });
    await makeArchive(join(results, 'archive.har'));
    recall = await LocalRecall.start(join(results, 'archive.har'));
    const files = openLevelFiles(join(results, 'debug'), 'client');
    const job = new ClientJob({ resultsDir: results, testsDirs: [join(repoRoot, 'site_tests')], logger: createLogger(files.streams), logStreams: files.streams, statusFileName: 'status' });
    const status = await job.runTestDetail('desktopui_PageScreenshot', { url: 'https://shot.replay.test/', size: '640x480', chromium_flags: [...recall.chromiumFlags] });
    files.close();
    // As a fetched client test leaves it: the client status beside the test's results.
    cpSync(join(results, 'status'), join(testDir, 'client.status'));
    expect(status, readFileSync(join(results, 'debug', 'client.DEBUG'), 'utf8').slice(-3000)).toBe('GOOD');
  }, 120_000);
  afterAll(async () => {
    await recall?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('logs every DevTools message with the screenshot kept in a side file, and the initial state', () => {
    const log = SessionLog.read(join(testDir, 'devtools.jsonl'));
    expect(log.header.test).toBe('desktopui_PageScreenshot');
    expect(log.header.args.url).toBe('https://shot.replay.test/');
    expect(log.initialState).toMatchObject({ taken_at: expect.any(String), label: expect.stringMatching(/^shot-\d+$/) });
    const methods = log.browsers[0]!.records.filter((r) => r.type === 'command').map((r) => r.method);
    expect(methods).toEqual(expect.arrayContaining(['Browser.getVersion', 'Target.createTarget', 'Page.navigate', 'Runtime.evaluate', 'Page.captureScreenshot']));
    const lines = readFileSync(join(testDir, 'devtools.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);
    expect(lines.every((r) => typeof r.t === 'number')).toBe(true);
    const shot = lines.find((r) => r.type === 'response' && r.result?.data?.$payload);
    expect(shot, 'the screenshot answer refers to a side file').toBeDefined();
    const png = Buffer.from(log.loadPayload(shot!.result.data.$payload), 'base64');
    expect(png.equals(readFileSync(join(testDir, 'results', 'screenshot.1.png')))).toBe(true);
    // The log stays small: the picture is not in it.
    expect(Math.max(...readFileSync(join(testDir, 'devtools.jsonl'), 'utf8').split('\n').map((l) => l.length))).toBeLessThan(20_000);
  });

  it('DevTools-side replay runs the test with no Chromium and gives GOOD with the same keyvals', async () => {
    const out = join(root, 'devtools-out');
    const run = await sessionReplay(['devtools', testDir, '--out', out, '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { status: string; labStatus: string; keyvalDifferences: unknown[]; same: boolean };
    expect(report).toMatchObject({ status: 'GOOD', labStatus: 'GOOD', keyvalDifferences: [], same: true });
    expect(iterationKeyvals(join(out, 'desktopui_PageScreenshot', 'results', 'keyval'))).toEqual(iterationKeyvals(join(testDir, 'results', 'keyval')));
    expect(run.chromiumChildren).toEqual([]);
  });

  it('client-side replay re-issues the session to a fresh Chromium with no divergence', async () => {
    const run = await sessionReplay(['client', testDir, '--json', '--record', join(root, 'client-out')]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { commands: number; divergences: unknown[]; recallMisses: unknown[] };
    expect(report.divergences).toEqual([]);
    expect(report.commands).toBeGreaterThanOrEqual(8);
    expect(run.chromiumChildren.length).toBeGreaterThan(0);
    expect(existsSync(join(root, 'client-out', 'devtools.jsonl'))).toBe(true);
  });

  it('reports a logged result that was altered, naming the command and the field', async () => {
    const altered = join(root, 'altered', 'desktopui_PageScreenshot');
    cpSync(testDir, altered, { recursive: true });
    cpSync(join(results, 'archive.har'), join(root, 'altered', 'archive.har'));
    const file = join(altered, 'devtools.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    const index = lines.findIndex((line) => line.includes('"Replay me"'));
    expect(index).toBeGreaterThan(0);
    lines[index] = lines[index]!.replace('"Replay me"', '"Replayed differently"');
    writeFileSync(file, lines.join('\n'));
    const client = await sessionReplay(['client', altered]);
    expect(client.code, client.stdout + client.stderr).toBe(1);
    // The divergence names the logged command (the line before its altered answer) and the field.
    const command = lines.slice(0, index).findLastIndex((line) => line.includes('"method":"Runtime.evaluate"'));
    expect(client.stdout).toContain(`DIVERGED Runtime.evaluate (line ${command + 1}) answers differently: result.result.value: "Replayed differently" → "Replay me"`);
    // DevTools-side, the altered title reaches the test: its keyvals differ from the lab run's.
    const devtools = await sessionReplay(['devtools', altered]);
    expect(devtools.code).toBe(1);
    expect(devtools.stdout).toMatch(/KEYVALS iteration\.0\.title\{attr\}: "Replay me" → "Replayed differently"/);
  });

  it('fails a command the log does not hold, naming the nearest logged one and the differing field', async () => {
    const changed = join(root, 'changed', 'desktopui_PageScreenshot');
    cpSync(testDir, changed, { recursive: true });
    const file = join(changed, 'devtools.jsonl');
    // The header says the test ran with another size: the replayed test now asks for a different viewport.
    const [header, ...rest] = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, [header!.replace('"size":"640x480"', '"size":"641x480"'), ...rest].join('\n'));
    const run = await sessionReplay(['devtools', changed]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/NOT IN LOG session replay: Emulation\.setDeviceMetricsOverride is not in .*; nearest logged command is Emulation\.setDeviceMetricsOverride at line \d+, differing in params\.width: 640 → 641/);
  });

  it('refuses a truncated or a foreign log with one line', async () => {
    const cut = join(root, 'cut', 'desktopui_PageScreenshot');
    cpSync(testDir, cut, { recursive: true });
    const text = readFileSync(join(cut, 'devtools.jsonl'), 'utf8');
    writeFileSync(join(cut, 'devtools.jsonl'), text.slice(0, Math.floor(text.length / 2)));
    for (const mode of ['client', 'devtools']) {
      const run = await sessionReplay([mode, cut]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^session-replay: .*devtools\.jsonl is truncated: its last line \(\d+\) is cut off.* \[ERR_SESSION_LOG_TRUNCATED\]\n$/);
    }
    const foreign = join(root, 'foreign', 'desktopui_PageScreenshot');
    cpSync(testDir, foreign, { recursive: true });
    writeFileSync(join(foreign, 'devtools.jsonl'), `${JSON.stringify({ log: { version: '1.2', entries: [] } })}\n`);
    const run = await sessionReplay(['devtools', foreign]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^session-replay: .*devtools\.jsonl is not a DevTools session log: its first line has no "format": "autotest-devtools-log" header \[ERR_SESSION_LOG_FOREIGN\]\n$/);
  });
});
