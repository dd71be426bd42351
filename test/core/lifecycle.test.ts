import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestAbort } from '../../lib/errors.js';
import { parseKeyvals } from '../../lib/keyval.js';
import { collectTestResults } from '../../lib/results/test-results.js';
import { makeJob } from '../helpers/job.js';

function callLog() {
  const path = join(mkdtempSync(join(tmpdir(), 'autotest-calls-')), 'calls');
  return { path, lines: () => (existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : []) };
}

describe('test lifecycle', () => {
  it('runs initialize, setup, warmup, each iteration and cleanup in order', async () => {
    const { job, statusLog, resultsDir } = makeJob();
    const calls = callLog();
    expect(await job.runTest('fixture_Lifecycle', { log: calls.path, iterations: 3 })).toBe(true);
    expect(calls.lines()).toEqual([
      'initialize', 'setup', 'warmup',
      'runOnce 1', 'postprocessIteration 1', 'runOnce 2', 'postprocessIteration 2', 'runOnce 3', 'postprocessIteration 3',
      'cleanup',
    ]);
    const iterationKeyvals = readFileSync(join(resultsDir, 'fixture_Lifecycle', 'results', 'keyval'), 'utf8');
    expect(iterationKeyvals).toBe('iteration_value{perf}=10\n\niteration_value{perf}=20\n\niteration_value{perf}=30\n\n');
    expect(collectTestResults(statusLog()).tests).toMatchObject([{ name: 'fixture_Lifecycle', status: 'GOOD' }]);
  });

  it('runs setup once per test version, not on every run', async () => {
    const { job } = makeJob();
    const calls = callLog();
    await job.runTest('fixture_Lifecycle', { log: calls.path, tag: 'first' });
    await job.runTest('fixture_Lifecycle', { log: calls.path, tag: 'second' });
    expect(calls.lines().filter((l) => l === 'setup')).toHaveLength(1);
  });

  it.each([
    ['TestFail', 'runOnce', 'FAIL'],
    ['TestNA', 'initialize', 'TEST_NA'],
    ['TestWarn', 'runOnce', 'WARN'],
    ['TestError', 'warmup', 'ERROR'],
    ['Error', 'runOnce', 'ERROR'],
    ['TestFail', 'cleanup', 'FAIL'],
  ] as const)('records %s thrown in %s as %s and still cleans up', async (error, phase, status) => {
    const { job, statusLog } = makeJob();
    const calls = callLog();
    expect(await job.runTestDetail('fixture_Lifecycle', { log: calls.path, throwIn: phase, error })).toBe(status);
    expect(calls.lines().at(-1)).toBe('cleanup');
    const [result] = collectTestResults(statusLog()).tests;
    expect(result).toMatchObject({ status, reason: `${error} in ${phase}` });
    expect(statusLog()).toContain(`\t${status}\tfixture_Lifecycle\tfixture_Lifecycle\t`);
    expect(statusLog()).toContain(`END ${status}\tfixture_Lifecycle`);
  });

  it('keeps the first failure when cleanup fails too', async () => {
    const { job, statusLog } = makeJob();
    const calls = callLog();
    await job.runTest('fixture_Lifecycle', { log: calls.path, throwIn: 'runOnce', error: 'TestFail', cleanupThrows: true });
    expect(calls.lines().at(-1)).toBe('cleanup');
    expect(collectTestResults(statusLog()).tests[0]!.reason).toBe('TestFail in runOnce');
  });

  it('stops a hung runOnce at its timeout, records ABORT with the reason and runs cleanup', async () => {
    const { job, statusLog } = makeJob();
    const calls = callLog();
    expect(await job.runTestDetail('fixture_Lifecycle', { log: calls.path, hangIn: 'runOnce', timeout: 1 })).toBe('ABORT');
    // The hung step sees the abort and cleanup runs; their relative order is up to the event loop.
    expect(calls.lines().slice(0, 4)).toEqual(['initialize', 'setup', 'warmup', 'runOnce 1']);
    expect(calls.lines().slice(4).sort()).toEqual(['cleanup', 'runOnce saw abort']);
    expect(statusLog()).toMatch(/^START\tfixture_Lifecycle\tfixture_Lifecycle\ttimestamp=\d+\tlocaltime=[^\t]+\ttimeout=1\t$/m);
    expect(collectTestResults(statusLog()).tests[0]).toMatchObject({ status: 'ABORT', reason: 'Test timeout expired after 1s' });
  });

  it('records ABORT and cleans up when the job is interrupted, then refuses to start more tests', async () => {
    const controller = new AbortController();
    const { job, statusLog } = makeJob({ signal: controller.signal });
    const calls = callLog();
    const running = job.runTestDetail('fixture_Lifecycle', { log: calls.path, hangIn: 'warmup' });
    while (!calls.lines().includes('warmup')) await new Promise((r) => setTimeout(r, 10));
    controller.abort(new TestAbort('interrupted by SIGINT'));
    await expect(running).rejects.toMatchObject({ code: 'ERR_JOB_INTERRUPTED' });
    expect(calls.lines()).toContain('cleanup');
    expect(calls.lines()).not.toContain('runOnce 1');
    expect(collectTestResults(statusLog()).tests[0]).toMatchObject({ status: 'ABORT', reason: 'interrupted by SIGINT' });
    await expect(job.runTest('fixture_Lifecycle', { log: calls.path, tag: 'later' })).rejects.toMatchObject({ code: 'ERR_JOB_INTERRUPTED' });
  });

  it('writes the test keyval with version and parameters', async () => {
    const { job, resultsDir } = makeJob();
    const calls = callLog();
    await job.runTest('fixture_Lifecycle', { log: calls.path, tag: 'kv' });
    const keyval = parseKeyvals(readFileSync(join(resultsDir, 'fixture_Lifecycle.kv', 'keyval'), 'utf8'));
    expect(keyval).toMatchObject({ version: 1, 'param-log': calls.path });
  });

  it('records ERROR naming the test when it does not exist, with a suggestion', async () => {
    const { job, statusLog } = makeJob();
    expect(await job.runTestDetail('fixture_Lifecycl')).toBe('ERROR');
    expect(collectTestResults(statusLog()).tests[0]!.reason).toMatch(/unknown test fixture_Lifecycl: .*did you mean fixture_Lifecycle\?/);
  });

  it('refuses to run the same test twice into one folder', async () => {
    const { job } = makeJob();
    const calls = callLog();
    await job.runTest('fixture_Lifecycle', { log: calls.path });
    expect(await job.runTestDetail('fixture_Lifecycle', { log: calls.path })).toBe('ERROR');
  });
});

describe('runGroup', () => {
  it('wraps the function in START/END and swallows test failures as the group status', async () => {
    const { job, statusLog } = makeJob();
    const calls = callLog();
    const value = await job.runGroup(async () => {
      await job.runTest('fixture_Lifecycle', { log: calls.path, throwIn: 'runOnce' });
      return 42;
    }, { tag: 'mygroup' });
    expect(value).toBe(42);
    const lines = statusLog().split('\n');
    expect(lines[0]).toMatch(/^START\t----\tmygroup\t/);
    expect(lines[1]).toMatch(/^\tSTART\tfixture_Lifecycle/);
    expect(lines.at(-2)).toMatch(/^END GOOD\t----\tmygroup\t/);
  });

  it('ends with ABORT and throws a JobError for an unexpected error', async () => {
    const { job, statusLog } = makeJob();
    await expect(job.runGroup(() => { throw new Error('broken infrastructure'); }, { tag: 'g' })).rejects.toMatchObject({ code: 'ERR_JOB_GROUP' });
    expect(statusLog()).toMatch(/^END ABORT\t----\tg\t.*broken infrastructure$/m);
  });
});
