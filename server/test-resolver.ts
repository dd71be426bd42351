/**
 * Turns what a user types after `run-remote` into control files: a path to a control file, a test name
 * (`dummy_Pass` → `site_tests/dummy_Pass/control.ts`), or `suite:NAME` (every test whose control file lists
 * the attribute `suite:NAME`).
 */
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { loadControlFile } from '../lib/control-file.js';
import { AutotestError } from '../lib/errors.js';
import { findTest, listTests } from '../lib/test-finder.js';

export interface ResolvedTest {
  /** What the results folder and the summary call it. */
  name: string;
  control: string;
}

export class TestResolveError extends AutotestError {}

async function suiteMembers(suite: string, testsDirs: readonly string[]): Promise<ResolvedTest[]> {
  const members: ResolvedTest[] = [];
  for (const name of listTests(testsDirs)) {
    const found = findTest(name, testsDirs);
    if (!found.controlPath) continue;
    const { control } = await loadControlFile(found.controlPath);
    if (control.attributes?.includes(`suite:${suite}`)) members.push({ name, control: found.controlPath });
  }
  if (members.length === 0) {
    throw new TestResolveError('ERR_SUITE_EMPTY', `suite ${suite} has no tests: add 'suite:${suite}' to the attributes of their control files`);
  }
  return members;
}

export async function resolveTests(words: readonly string[], testsDirs: readonly string[]): Promise<ResolvedTest[]> {
  const resolved: ResolvedTest[] = [];
  for (const word of words.flatMap((w) => w.split(',')).filter(Boolean)) {
    if (word.startsWith('suite:')) {
      resolved.push(...(await suiteMembers(word.slice('suite:'.length), testsDirs)));
    } else if (/[/\\]|\.(ts|js)$/.test(word) && existsSync(word)) {
      const control = resolve(word);
      const name = basename(control) === 'control.ts' ? basename(dirname(control)) : basename(control).replace(/\.(ts|js)$/, '');
      resolved.push({ name, control });
    } else {
      const found = findTest(word, testsDirs);
      if (!found.controlPath) {
        throw new TestResolveError('ERR_TEST_NO_CONTROL', `test ${word} has no control.ts in ${found.dir}: add one to say how it runs`);
      }
      resolved.push({ name: word, control: found.controlPath });
    }
  }
  return resolved;
}
