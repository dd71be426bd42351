import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { fixtureTestsDir } from '../helpers/job.js';

const control = (name: string) => new URL(`../fixtures/control/${name}`, import.meta.url).pathname;

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'job-results-'));
  const results = join(dir, 'results');
  const read = (file: string) => readFileSync(join(results, file), 'utf8');
  return { dir, results, read, json: () => JSON.parse(read('results.json')) as Record<string, any> };
}

const autoserv = (ws: ReturnType<typeof workspace>, ...args: string[]) =>
  runCli('autoserv', ['-r', ws.results, '--tests-dir', fixtureTestsDir, ...args], { cwd: ws.dir });

/** autotest's TKO (tko/parsers/version_1 parse_line): columns after the name are fields while they match key=value. */
function tkoReason(line: string): string {
  const parts = line.replace(/^\t*/, '').split('\t');
  let index = 3;
  while (index < parts.length && /^(\w+)=(.*)$/.test(parts[index]!)) index++;
  return parts.slice(index).join('\t');
}

const attr = (xml: string, element: string, name: string) => [...xml.matchAll(new RegExp(`<${element} [^>]*\\b${name}="([^"]*)"`, 'g'))].map((m) => m[1]!);

describe('a job that broke is never read as green', () => {
  it('a control file that does not compile: an error test case naming the reason, top-level status ERROR', async () => {
    const ws = workspace();
    const run = await autoserv(ws, control('syntax-error.ts'));
    expect(run.code).toBe(2);
    const junit = ws.read('junit.xml');
    expect(junit).toMatch(/<testsuites [^>]*tests="1" failures="0" errors="1"/);
    expect(junit).toMatch(/<testcase classname="[^"]+" name="job" time="[\d.]+">\s*<error type="ERROR" message="control file [^"]*syntax-error\.ts:7:\d+: Expected &quot;\)&quot;/);
    expect(ws.json()).toMatchObject({ status: 'ERROR', passed: false, job: { exitCode: 2 } });
    expect(existsSync(join(ws.results, 'index.html'))).toBe(true);
  });

  it('an unreachable host: the connection error is the job error test case, status ERROR', async () => {
    const ws = workspace();
    const key = join(ws.dir, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    // Nothing listens on port 1 of loopback: the connection is refused.
    const run = await autoserv(ws, '-m', 'root@127.0.0.1:1', '--ssh-key', key, '--accept-new-host-keys', control('unreachable-host.ts'));
    expect(run.code).toBe(2);
    const json = ws.json();
    expect(json.status).toBe('ERROR');
    expect(json.job.error).toMatch(/127\.0\.0\.1.*(refused|ECONNREFUSED)/i);
    const junit = ws.read('junit.xml');
    expect(junit).toMatch(/errors="1"/);
    expect(junit).toMatch(/name="job" time="[\d.]+">\s*<error type="ERROR" message="[^"]*127\.0\.0\.1/);
  });
});

describe('results.json and junit.xml', () => {
  it('time tests in milliseconds from the job clock and do not count a parent and its iterations twice', async () => {
    const ws = workspace();
    const run = await autoserv(ws, '-a', 'iterations=3 sleepMs=300', control('nested-iterations.ts'));
    expect(run.code, run.stderr).toBe(0);
    const json = ws.json();
    const parent = json.tests.find((t: { name: string }) => t.name === 'fixture_Parent');
    const children = json.tests.filter((t: { parent?: string }) => t.parent === 'fixture_Parent');
    expect(children).toHaveLength(3);
    for (const child of children) expect(child.durationMs).toBeGreaterThanOrEqual(300);
    const childMs = children.reduce((sum: number, c: { durationMs: number }) => sum + c.durationMs, 0);
    expect(parent.durationMs).toBeGreaterThanOrEqual(childMs);
    expect(json.job.durationMs).toBeGreaterThanOrEqual(parent.durationMs);

    const junit = ws.read('junit.xml');
    const caseTimes = Object.fromEntries(attr(junit, 'testcase', 'name').map((name, i) => [name, Number(attr(junit, 'testcase', 'time')[i])]));
    expect(caseTimes['fixture_Parent']).toBeCloseTo(parent.durationMs / 1000, 3);
    expect(caseTimes['fixture_Child.iteration1']).toBeCloseTo(children[0].durationMs / 1000, 3);
    expect(attr(junit, 'testcase', 'time').every((t) => /^\d+\.\d{3}$/.test(t))).toBe(true);
    // The suite took as long as its one top-level test, not parent + iterations.
    expect(Number(attr(junit, 'testsuite', 'time')[0])).toBeCloseTo(parent.durationMs / 1000, 3);
    expect(Number(attr(junit, 'testsuites', 'time')[0])).toBeCloseTo(json.job.durationMs / 1000, 3);
    // status.log keeps autotest's whole seconds.
    expect(ws.read('status.log')).toMatch(/^\tSTART\tfixture_Child\.iteration1\tfixture_Child\.iteration1\ttimestamp=\d+\tlocaltime=[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d\t$/m);
  });

  it('order rows by test, parents before their iterations, iterations numerically', async () => {
    const ws = workspace();
    const run = await autoserv(ws, '-a', 'iterations=11 sleepMs=0', control('nested-iterations.ts'));
    expect(run.code, run.stderr).toBe(0);
    const expected = ['fixture_Parent', ...Array.from({ length: 11 }, (_, i) => `fixture_Child.iteration${i + 1}`)];
    expect(ws.json().tests.map((t: { name: string }) => t.name)).toEqual(expected);
    expect(attr(ws.read('junit.xml'), 'testcase', 'name')).toEqual(expected);
    // autoserv ends with the summary table, in the same order.
    const tableNames = run.stdout.split('\n').map((l) => /^(fixture_\S+)\s/.exec(l)?.[1]).filter(Boolean);
    expect(tableNames).toEqual(expected);
    expect(run.stdout).toMatch(/^Total PASS: 12\/12 \(100%\)$/m);
    expect(run.stdout).toContain(`report: ${join(ws.results, 'index.html')}`);
  });

  it('write a reason that looks like key=value so autotest’s TKO and our parser both keep it', async () => {
    const ws = workspace();
    const run = await autoserv(ws, '-a', 'iterations=2 sleepMs=0 failIteration=2', control('nested-iterations.ts'));
    expect(run.code).toBe(1);
    const reason = 'rc=1 from the child, see /tmp/child.log for the whole output of the command that failed';
    const failLine = ws.read('status.log').split('\n').find((l) => /^\t+FAIL\tfixture_Child\.iteration2\t/.test(l))!;
    expect(tkoReason(failLine).trim()).toBe(reason);
    const child = ws.json().tests.find((t: { name: string }) => t.name === 'fixture_Child.iteration2');
    expect(child).toMatchObject({ status: 'FAIL', reason });
    // The whole reason reaches the summary table, wrapped but never cut.
    const words = run.stdout.split(/\s+/);
    for (const word of reason.split(' ')) expect(words).toContain(word);
  });
});

describe('.autoserv_execute, as autoserv writes it for TKO', () => {
  it('holds the pid, the encoded exit status and the number of tests that did not pass', async () => {
    const good = workspace();
    expect((await autoserv(good, '-a', 'iterations=1', control('nested-iterations.ts'))).code).toBe(0);
    const [pid, status, failed] = good.read('.autoserv_execute').trim().split('\n');
    expect(Number(pid)).toBeGreaterThan(0);
    expect([status, failed]).toEqual(['0', '0']);

    const bad = workspace();
    expect((await autoserv(bad, '-a', 'iterations=2 failIteration=1', control('nested-iterations.ts'))).code).toBe(1);
    expect(bad.read('.autoserv_execute').trim().split('\n').slice(1)).toEqual([String(1 << 8), '2']);
  });

  it('records the signal of an interrupted job: exit 1 and SIGTERM, as autoserv’s handler does', async () => {
    const ws = workspace();
    const log = join(ws.dir, 'calls');
    const run = startCli('autoserv', ['-r', ws.results, '--tests-dir', fixtureTestsDir, '-a', `log=${log} hangIn=runOnce`, control('lifecycle.ts')], { cwd: ws.dir });
    while (!(existsSync(log) && readFileSync(log, 'utf8').includes('runOnce'))) await new Promise((r) => setTimeout(r, 20));
    expect(ws.read('.autoserv_execute').trim()).toBe(String(run.child.pid));
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(130);
    expect(ws.read('.autoserv_execute').trim().split('\n').slice(1)).toEqual([String((1 << 8) | 15), '1']);
    expect(ws.json()).toMatchObject({ status: 'ABORT', passed: false });
    expect(existsSync(join(ws.results, 'index.html'))).toBe(true);
  });
});
