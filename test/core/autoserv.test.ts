import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectTestResults } from '../../lib/results/test-results.js';
import { runCli, startCli } from '../helpers/cli.js';
import { fixtureTestsDir } from '../helpers/job.js';

const control = (name: string) => new URL(`../fixtures/control/${name}`, import.meta.url).pathname;

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'autoserv-'));
  const results = join(dir, 'results');
  const read = (file: string) => readFileSync(join(results, file), 'utf8');
  return { dir, results, read, log: join(dir, 'calls') };
}

const autoserv = (ws: ReturnType<typeof workspace>, ...args: string[]) =>
  runCli('autoserv', ['-r', ws.results, '--tests-dir', fixtureTestsDir, ...args], { cwd: ws.dir });

describe('autoserv', () => {
  it('exits 0 when every test passed and writes status.log, results.json and junit.xml that agree', async () => {
    const ws = workspace();
    const result = await autoserv(ws, '-a', `log=${ws.log}`, control('lifecycle.ts'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(ws.read('results.json'));
    expect(json).toMatchObject({ passed: true, status: 'GOOD', job: { name: 'fixture_lifecycle_job', exitCode: 0 } });
    expect(json.tests.map((t: { name: string }) => t.name)).toEqual(['fixture_Lifecycle', 'fixture_Lifecycle.second']);
    expect(ws.read('junit.xml')).toContain('tests="2" failures="0" errors="0"');
    expect(existsSync(join(ws.results, 'debug', 'autoserv.INFO'))).toBe(true);
    expect(existsSync(join(ws.results, 'fixture_Lifecycle', 'debug', 'fixture_Lifecycle.DEBUG'))).toBe(true);
    expect(ws.read('control.srv')).toContain('fixture_lifecycle_job');
    expect(ws.read('keyval')).toMatch(/^job_started=\d+$/m);
  });

  it.each([
    ['TestFail', 'FAIL', '<failure type="FAIL" message="TestFail in runOnce">'],
    ['TestError', 'ERROR', '<error type="ERROR" message="TestError in runOnce">'],
  ])('exits 1 when a test raised %s, and junit.xml tells FAIL from ERROR', async (error, status, junit) => {
    const ws = workspace();
    const result = await autoserv(ws, '-a', `log=${ws.log} throwIn=runOnce error=${error}`, control('lifecycle.ts'));
    expect(result.code).toBe(1);
    const json = JSON.parse(ws.read('results.json'));
    const fromStatusLog = collectTestResults(ws.read('status.log')).tests.map((t) => [t.name, t.status, t.reason]);
    expect(json.tests.map((t: { name: string; status: string; reason: string }) => [t.name, t.status, t.reason])).toEqual(fromStatusLog);
    expect(fromStatusLog[0]).toEqual(['fixture_Lifecycle', status, `${error} in runOnce`]);
    expect(ws.read('junit.xml')).toContain(junit);
  });

  it('exits 2 with file and line when the control file is broken', async () => {
    const ws = workspace();
    const result = await autoserv(ws, control('syntax-error.ts'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^autoserv: control file .*syntax-error\.ts:7:\d+: Expected "\)"/m);
    expect(ws.read('status.log')).toMatch(/^INFO\t----\t----\ttimestamp=\d+\tlocaltime=[^\t]+\tjob_abort_reason=control file /m);
    expect(JSON.parse(ws.read('results.json'))).toMatchObject({ passed: false, job: { exitCode: 2 } });
  });

  it('exits 2 with the control file line when run() throws', async () => {
    const ws = workspace();
    const result = await autoserv(ws, '-a', 'count=many', control('run-throws.ts'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/run-throws\.ts:7:\d+: count must be a number, got many/);
  });

  it('exits 2 naming the folder when the results folder already holds a job', async () => {
    const ws = workspace();
    await autoserv(ws, '-a', `log=${ws.log}`, control('lifecycle.ts'));
    const again = await autoserv(ws, '-a', `log=${ws.log}`, control('lifecycle.ts'));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a job's status\.log: choose another with -r/);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('on %s records ABORT, runs cleanup, leaves a valid status.log and exits 130', async (signal) => {
    const ws = workspace();
    const run = startCli('autoserv', ['-r', ws.results, '--tests-dir', fixtureTestsDir, '-a', `log=${ws.log} hangIn=runOnce`, control('lifecycle.ts')], { cwd: ws.dir });
    let exited = false;
    void run.done.then(() => (exited = true));
    while (!exited && !(existsSync(ws.log) && readFileSync(ws.log, 'utf8').includes('runOnce'))) await new Promise((r) => setTimeout(r, 20));
    expect(exited, 'autoserv ended before the test started').toBe(false);
    run.child.kill(signal);
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(readFileSync(ws.log, 'utf8')).toContain('cleanup');
    const outcome = collectTestResults(ws.read('status.log'));
    expect(outcome.truncated).toBe(false);
    expect(outcome.tests).toMatchObject([{ name: 'fixture_Lifecycle', status: 'ABORT', reason: `interrupted by ${signal}` }]);
    expect(JSON.parse(ws.read('results.json'))).toMatchObject({ passed: false, job: { interrupted: true, exitCode: 130 } });
  });

  it('runs parallelSimple per machine: own folders and sections, one failure does not stop the others', async () => {
    const ws = workspace();
    const result = await autoserv(ws, '-m', 'dev1,dev2,dev3', '-a', `log=${ws.log} fail=dev2`, control('machines.ts'));
    // A failing test is the test's failure, not the machine's: the job completes and exits 1.
    expect(result.code).toBe(1);
    for (const machine of ['dev1', 'dev2', 'dev3']) {
      expect(readFileSync(join(ws.results, machine, 'status.log'), 'utf8')).toContain(`START\tfixture_Lifecycle`);
      expect(readFileSync(join(ws.results, machine, 'keyval'), 'utf8')).toContain(`hostname=${machine}`);
      expect(readFileSync(`${ws.log}.${machine}`, 'utf8')).toContain('cleanup');
    }
    const json = JSON.parse(ws.read('results.json'));
    const byMachine = Object.fromEntries(json.tests.map((t: { machine: string; status: string }) => [t.machine, t.status]));
    expect(byMachine).toEqual({ dev1: 'GOOD', dev2: 'FAIL', dev3: 'GOOD' });
    expect(ws.read('status.log')).toMatch(/^START\tdev2\/fixture_Lifecycle\tfixture_Lifecycle\t/m);
    expect(ws.read('junit.xml')).toContain('<testsuite name="dev2" tests="1" failures="1"');
  });

  it('records a machine that failed outside any test as an error of that machine', async () => {
    const ws = workspace();
    const result = await autoserv(ws, '-m', 'dev1 dev2', '-a', `log=${ws.log} crash=dev1`, control('machines.ts'));
    expect(result.code).toBe(2);
    const json = JSON.parse(ws.read('results.json'));
    expect(json.tests).toContainEqual(expect.objectContaining({ name: 'dev1', status: 'ERROR', reason: 'cannot reach dev1' }));
    expect(json.tests).toContainEqual(expect.objectContaining({ machine: 'dev2', status: 'GOOD' }));
  });
});
