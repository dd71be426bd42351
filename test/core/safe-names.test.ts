// Names that become folders and shell words (test names, tags) are checked where they enter the job.
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkName, isSafeName, taggedName } from '../../lib/safe-name.js';
import { parsePid } from '../../server/autotest.js';
import { runCli } from '../helpers/cli.js';

const control = new URL('../fixtures/control/hostile-names.ts', import.meta.url).pathname;

describe('safe names', () => {
  it('refuses traversal, separators, control characters and leading dots, naming the value', () => {
    for (const bad of ['..', '../x', 'a/b', 'x/../../..', '.hidden', '-rf', 'a\tb', 'a\nb', 'a b', "a'b", '$(id)', '', 'x'.repeat(201)]) {
      expect(isSafeName(bad), bad).toBe(false);
    }
    for (const good of ['iteration1', 'dummy_Pass', 'kernbench.mine', 'a+b-c_1.2']) expect(isSafeName(good), good).toBe(true);
    expect(() => checkName('tag', 'x/../..')).toThrow(expect.objectContaining({ code: 'ERR_UNSAFE_NAME', message: expect.stringContaining('tag "x/../.." is not allowed') }));
    expect(taggedName('dummy_Pass', 3)).toBe('dummy_Pass.3');
    expect(() => taggedName('dummy_Pass', 'a\tb')).toThrow(/tag "a\\tb" is not allowed/);
  });

  it("trusts only a plain pid from the device's harness", () => {
    expect(parsePid('1234\n')).toBe(1234);
    for (const bad of ['', '0', '1', '-1', '12; rm -rf /', '1e3', '99999999999']) {
      expect(() => parsePid(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_PID' }));
    }
  });

  it('records a refused tag or test name as ERROR in its own row and keeps every result inside the job folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'safe-names-'));
    const results = join(dir, 'jobs', 'one');
    const result = await runCli('autoserv', ['-r', results, control], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/TypeError/);
    // Nothing was written beside the job folder, and only the accepted test made a folder.
    expect(readdirSync(join(dir, 'jobs'))).toEqual(['one']);
    expect(existsSync(join(dir, 'escaped'))).toBe(false);
    expect(readdirSync(results).filter((f) => f.startsWith('dummy_PassServer'))).toEqual(['dummy_PassServer.fine']);
    const status = readFileSync(join(results, 'status.log'), 'utf8');
    expect(status).toContain('tag "../../../escaped" is not allowed');
    expect(status).toContain('tag "with\\ttab" is not allowed');
    expect(status).toContain('test name "../dummy_PassServer" is not allowed');
    // Every status line keeps autotest's shape: no raw tab or newline smuggled into a field.
    for (const line of status.trimEnd().split('\n')) expect(line.replace(/^\t+/, '').split('\t').length).toBeGreaterThanOrEqual(3);
    const json = JSON.parse(readFileSync(join(results, 'results.json'), 'utf8'));
    expect(json.tests.map((t: { status: string }) => t.status).sort()).toEqual(['ERROR', 'ERROR', 'ERROR', 'GOOD']);
  });
});
