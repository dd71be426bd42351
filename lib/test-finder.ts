/** Finds tests by name in the tests folders: `<dir>/NAME/NAME.ts` and its `<dir>/NAME/control.ts`. */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AutotestError } from './errors.js';
import { isSafeName } from './safe-name.js';

export interface FoundTest {
  readonly name: string;
  /** The test's folder. */
  readonly dir: string;
  /** `NAME.ts` (or `.js` in a built client package), if the folder has one. */
  readonly modulePath: string | undefined;
  /** `control.ts` (or `.js`), if the folder has one. */
  readonly controlPath: string | undefined;
}

export class TestNotFoundError extends AutotestError {}

function firstExisting(...paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

/** Lists every test name in the given folders. */
export function listTests(testsDirs: readonly string[]): string[] {
  const names = new Set<string>();
  for (const dir of testsDirs) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) names.add(entry.name);
  }
  return [...names].sort();
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** Finds a test; the first folder that has it wins (the user's --tests-dir folders come first). */
export function findTest(name: string, testsDirs: readonly string[]): FoundTest {
  if (!isSafeName(name)) {
    throw new TestNotFoundError('ERR_TEST_NAME', `test name ${JSON.stringify(name)} is invalid: use letters, digits, '_', '.', '+' and '-' (not starting with '.' or '-', no '..')`);
  }
  for (const root of testsDirs) {
    const dir = resolve(root, name);
    const modulePath = firstExisting(join(dir, `${name}.ts`), join(dir, `${name}.js`));
    const controlPath = firstExisting(join(dir, 'control.ts'), join(dir, 'control.js'));
    if (modulePath || controlPath) return { name, dir, modulePath, controlPath };
  }
  const near = listTests(testsDirs)
    .map((candidate) => ({ candidate, d: distance(name, candidate) }))
    .filter(({ d }) => d <= Math.max(2, Math.floor(name.length / 4)))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map(({ candidate }) => candidate);
  const hint = near.length ? `; did you mean ${near.join(', ')}?` : '; add the folder holding it with --tests-dir';
  throw new TestNotFoundError('ERR_TEST_NOT_FOUND', `unknown test ${name}: no ${name}/ in ${testsDirs.join(', ')}${hint}`);
}
