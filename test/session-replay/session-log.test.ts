// The session log's pieces on their own: writing with side files, reading with its checks, the ID map of
// client-side replay, and the DevTools-side transport's matching.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BrowserSession, CdpConnection, DEVTOOLS_REPLAY_ENV, devtoolsReplayMisses, LogReplayTransport, SessionLog, SessionLogWriter, type ReplayMiss, type ResponseRecord } from '../../client/index.js';
import { replayClientSide } from '../../server/session-replay/client-replay.js';
import { createLogger } from '../../lib/logging.js';
import { Test } from '../../lib/test.js';
import { IdMap } from '../../server/session-replay/id-map.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'session-log-'));
  dirs.push(dir);
  return dir;
};

function writeLog(dir: string): string {
  const path = join(dir, 'devtools.jsonl');
  const writer = SessionLogWriter.open(path, { test: 'demo_Test.tag', args: { url: 'https://a.test/' }, iterations: 1 });
  writer.write({ type: 'initial-state', values: { seed: 7 } });
  const { browser, tap } = writer.launch(['--headless']);
  tap.command({ id: 9, method: 'Browser.getVersion', params: {} });
  tap.incoming({ id: 9, result: { product: 'HeadlessChrome/1' } });
  tap.command({ id: 1, method: 'Target.createTarget', params: { url: 'about:blank' } });
  tap.incoming({ id: 1, result: { targetId: 'T1' } });
  tap.incoming({ method: 'Target.targetCreated', params: { targetInfo: { targetId: 'T1' } } });
  tap.command({ id: 2, method: 'Runtime.evaluate', params: { expression: 'x' }, sessionId: 'S1' });
  tap.incoming({ id: 2, result: { result: { value: 'h'.repeat(10_000) } } });
  tap.command({ id: 3, method: 'Runtime.evaluate', params: { expression: 'y' }, sessionId: 'S1' });
  tap.incoming({ id: 3, result: { result: { value: 'h'.repeat(10_000) } } });
  writer.closeBrowser(browser);
  return path;
}

describe('the DevTools session log', () => {
  it('keeps long strings once in a side file and reads them back', () => {
    const dir = tempDir();
    const log = SessionLog.read(writeLog(dir));
    expect(log.testName).toBe('demo_Test');
    expect(log.tag).toBe('tag');
    expect(log.initialState).toEqual({ seed: 7 });
    expect(readdirSync(join(dir, 'devtools-payloads'))).toHaveLength(1);
    const answer = log.browsers[0]!.records.find((r): r is ResponseRecord & { line: number } => r.type === 'response' && r.id === 2)!;
    expect(JSON.stringify(answer)).toContain('"$payload":"sha256:');
    expect(log.resolve(answer).result).toEqual({ result: { value: 'h'.repeat(10_000) } });
    expect(readFileSync(log.path, 'utf8').length).toBeLessThan(3000);
  });

  it('names the line of a damaged record, an unknown version and a browser never launched', () => {
    const dir = tempDir();
    const path = writeLog(dir);
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, [...lines.slice(0, 3), '{"type":', ...lines.slice(3)].join('\n'));
    expect(() => SessionLog.read(path)).toThrow(/line 4 is not JSON: the log is damaged/);
    writeFileSync(path, [lines[0]!.replace('"version":1', '"version":9'), ...lines.slice(1)].join('\n'));
    expect(() => SessionLog.read(path)).toThrow(/is a version 9 session log; this autotest reads version 1/);
    writeFileSync(path, [lines[0], lines[3]!.replace('"browser":1', '"browser":5'), ''].join('\n'));
    expect(() => SessionLog.read(path)).toThrow(/line 2: a command of browser 5, which was never launched/);
    writeFileSync(path, [lines[0], lines[0], ''].join('\n'));
    expect(() => SessionLog.read(path)).toThrow(/line 2: a second header: two logs were joined/);
    writeFileSync(path, [lines[0], lines[2], lines[3]!.replace('"method":"Browser.getVersion"', '"method":7'), ''].join('\n'));
    expect(() => SessionLog.read(path)).toThrow(/line 3: command without a method name and a params object/);
  });

  it('refuses payload references that leave the side-file folder, and side files that were changed', () => {
    const dir = tempDir();
    const log = SessionLog.read(writeLog(dir));
    expect(() => log.loadPayload('sha256:../../../etc/passwd')).toThrow(/payload reference "sha256:..\/..\/..\/etc\/passwd" is not sha256:<64 hex digits>/);
    const [file] = readdirSync(join(dir, 'devtools-payloads'));
    writeFileSync(join(dir, 'devtools-payloads', file!), 'other');
    expect(() => log.loadPayload(file!.replace('-', ':'))).toThrow(/does not hold what the log refers to \(its SHA-256 differs\)/);
  });

  it('learns new IDs from answers and events and writes them into later commands', () => {
    const ids = new IdMap();
    ids.learn({ frameTree: { frame: { id: 'F1', loaderId: 'L1' } }, nodeIds: [1, 2], context: { id: 3 } }, { frameTree: { frame: { id: 'F9', loaderId: 'L9' } }, nodeIds: [11, 12], context: { id: 33 } });
    // A frame's and an execution context's own `id` are IDs too; a URL equal to an ID is not one.
    expect(ids.substitute({ loaderId: 'L1', nodeId: 2, url: 'L1', executionContextId: 3, frameId: 'F1' })).toEqual({ loaderId: 'L9', nodeId: 12, url: 'L1', executionContextId: 33, frameId: 'F9' });
    // First sighting wins.
    ids.learn({ loaderId: 'L1' }, { loaderId: 'L7' });
    expect(ids.id('L1')).toBe('L9');
  });

  it('DevTools-side: answers logged commands in order, events after them, and refuses one not in the log', async () => {
    const dir = tempDir();
    const log = SessionLog.read(writeLog(dir));
    const misses: ReplayMiss[] = [];
    const transport = new LogReplayTransport(log, log.browsers[0]!, (miss) => misses.push(miss));
    const cdp = new CdpConnection(transport);
    const events: string[] = [];
    cdp.onEvent((event) => events.push(event.method));
    await cdp.send('Browser.getVersion');
    await expect(cdp.send('Target.createTarget', { url: 'about:blank' })).resolves.toEqual({ targetId: 'T1' });
    await expect(cdp.send('Runtime.evaluate', { expression: 'z' }, { sessionId: 'S1' })).rejects.toThrow(
      /Runtime\.evaluate is not in .*; nearest logged command is Runtime\.evaluate at line \d+, differing in params\.expression: "x" → "z"/,
    );
    expect(misses).toHaveLength(1);
    expect(events).toEqual(['Target.targetCreated']);
    await expect(cdp.send('Runtime.evaluate', { expression: 'x' }, { sessionId: 'S1' })).resolves.toEqual({ result: { value: 'h'.repeat(10_000) } });
    expect(transport.unsent().map((c) => c.params)).toEqual([{ expression: 'y' }]);
  });

  it('a test replaying its session gets its initial state back, and is told about logged commands it never sent', async () => {
    const dir = tempDir();
    const path = writeLog(dir);
    class demo_Test extends Test {
      runOnce(): void {}
    }
    const test = new demo_Test();
    test.attach({ name: 'demo_Test.tag', outputDir: join(dir, 'replayed'), bindir: dir, tmpDir: dir, logger: createLogger([]), signal: new AbortController().signal, job: undefined });
    process.env[DEVTOOLS_REPLAY_ENV] = path;
    try {
      const session = BrowserSession.forTest(test, {});
      expect(session.replaying).toBe(true);
      expect(session.initialState({ seed: 1, other: 2 })).toEqual({ seed: 7, other: 2 });
      const misses = devtoolsReplayMisses();
      misses.length = 0;
      const browser = await session.launch();
      await browser.cdp.send('Target.createTarget', { url: 'about:blank' });
      await browser.close();
      // This log has no Browser.close either: closing is a command the log does not hold.
      expect(misses.map((m) => m.message)).toEqual([
        expect.stringMatching(/^session replay: Browser\.close is not in .*; nearest logged command is Runtime\.evaluate at line \d+, differing in method/),
        expect.stringMatching(/^the test closed browser 1 without sending 2 logged command\(s\) of .*devtools\.jsonl, the first Runtime\.evaluate at line \d+$/),
      ]);
      await expect(session.launch()).rejects.toThrow(/holds 1 browser session\(s\); the test launched browser 2/);
      expect(existsSync(join(dir, 'replayed', 'devtools.jsonl'))).toBe(false);
    } finally {
      delete process.env[DEVTOOLS_REPLAY_ENV];
    }
  });

  it('client-side: a browser that goes away is one divergence, not one per remaining command', async () => {
    const dir = tempDir();
    const path = join(dir, 'devtools.jsonl');
    const writer = SessionLogWriter.open(path, { test: 'demo_Test', args: {} });
    const { tap } = writer.launch([]);
    tap.command({ id: 1, method: 'Browser.getVersion', params: {} });
    tap.incoming({ id: 1, result: { protocolVersion: '1.3' } });
    tap.command({ id: 2, method: 'Browser.crash', params: {} });
    for (const id of [3, 4]) {
      tap.command({ id, method: 'Target.createTarget', params: { url: 'about:blank' } });
      tap.incoming({ id, result: { targetId: `T${id}` } });
    }
    const result = await replayClientSide(SessionLog.read(path), { quietMs: 200 });
    expect(result.divergences.map((d) => d.message)).toEqual([
      // Browser.getVersion answers with this Chromium's figures: a real difference, reported as such.
      expect.stringMatching(/^Browser\.getVersion \(line 3\) answers differently/),
      expect.stringMatching(/^Chromium went away before Target\.createTarget \(line 6\); the rest of the session was not replayed$/),
    ]);
  });
});
