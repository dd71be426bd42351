// A device's gRPC client through test_RecallServer: fixture_GrpcCalls speaks the gRPC wire protocol over h2 to the
// lab's grpc.lab.test (unary, server streaming, and a ping-pong bidi call that sends each message only after the
// echo of the one before). The first iteration records from the real site, the second plays back; then the
// archive is played back again with the lab's internet namespace deleted. Every run gets the site's answers.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKeyvals } from '../../lib/keyval.js';
import { Archive, grpcCallOf } from '../../lib/recall/index.js';
import { fixtureTestsDir } from '../helpers/job.js';
import { deleteInternet, useLab } from '../helpers/lab.js';
import { runInServer, sshArgs } from '../helpers/recall-journey.js';
import { isRoot } from '../helpers/root.js';

/** What lab.Echo answers (server/lab/internet-grpc.ts), as fixture_GrpcCalls writes it to its keyvals. */
const ANSWERS = {
  say: 'said hi/2',
  count: 'tick 1/1,tick 2/2,tick 3/3',
  chat: 'echo ping/10,echo pong/20,echo done/30',
  say_status: '0',
  count_status: '0',
  chat_status: '0',
};

const answersIn = (dir: string) => {
  const keyvals = parseKeyvals(readFileSync(join(dir, 'results', 'keyval'), 'utf8'), { stripTypes: true });
  return Object.fromEntries(Object.keys(ANSWERS).map((key) => [key, String(keyvals[key])]));
};

describe.skipIf(!isRoot)("a device's gRPC client through test_RecallServer (needs root)", () => {
  const lab = useLab({ devices: 1 });
  const root = mkdtempSync(join(tmpdir(), 'recall-grpc-device-'));
  const testDir = (run: string) => join(root, run, 'test_RecallServer', 'test_RecallServer');
  const runRecall = (run: string, args: string) =>
    runInServer(lab(), 'run-remote', ['--remote', lab().devices[0]!.address, ...sshArgs(lab()), '--tests-dir', fixtureTestsDir, '--results-dir', join(root, run), 'test_RecallServer', '-a', args]);

  it('records unary, streaming and ping-pong calls, and plays them back with nothing missed', async () => {
    const run = await runRecall('record', 'fixture_GrpcCalls num_iterations=2 strict=1');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const i of [1, 2]) expect(answersIn(join(testDir('record'), `fixture_GrpcCalls.iteration${i}`))).toEqual(ANSWERS);
    const keyval = readFileSync(join(testDir('record'), 'results', 'keyval'), 'utf8');
    expect(keyval).toMatch(/recall_misses\{perf\}=0/);
    expect(keyval).toMatch(/recall_grpc_mismatches\{perf\}=0/);
    expect(keyval).toMatch(/recall_hits\{perf\}=3/);
    const archive = await Archive.load(join(testDir('record'), 'archive.har.gz'));
    expect(archive.recall.alpn).toMatchObject({ 'grpc.lab.test': 'h2' });
    // The ping-pong's order is in the archive: each message sent only after the echo of the one before.
    const chat = archive.exchanges.map((e) => grpcCallOf(e)).find((c) => c?.method === '/lab.Echo/Chat');
    expect(chat?.events?.map((e) => e.type).join(' ')).toBe('send receive send receive send receive end');
  }, 300_000);

  it('plays the archive back with the internet namespace deleted', async () => {
    await deleteInternet(lab());
    const archive = join(testDir('record'), 'archive.har.gz');
    const run = await runRecall('replay', `fixture_GrpcCalls ${archive} num_iterations=2 strict=1`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const i of [1, 2]) expect(answersIn(join(testDir('replay'), `fixture_GrpcCalls.iteration${i}`))).toEqual(ANSWERS);
    expect(readFileSync(join(testDir('replay'), 'results', 'keyval'), 'utf8')).toMatch(/recall_grpc_mismatches\{perf\}=0/);
  }, 300_000);
});
