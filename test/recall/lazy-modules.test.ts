// What a Recall process loads at start: `recall serve` and test_RecallServer never decode .proto files, so
// proto-loader (and protobufjs under it) must stay out of them until `recall show --proto` asks (issue 18, memory).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

/** The CommonJS packages in node_modules a fresh process has loaded after importing `module`. */
function packagesLoadedBy(module: string): string[] {
  // The command runs on import: it is given `help`, and the list is printed when the process exits.
  const script = `
    import { createRequire } from 'node:module';
    const cache = createRequire(import.meta.url).cache;
    process.on('exit', () => {
      const names = Object.keys(cache).map((file) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file)?.[1]).filter(Boolean);
      process.stdout.write('\\n' + JSON.stringify([...new Set(names)].sort()) + '\\n');
    });
    process.argv = [process.argv[0], 'help']; // under -e, commander reads arguments from index 1
    await import(${JSON.stringify(module)});`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(output.trim().split('\n').pop()!) as string[];
}

describe('modules loaded at start', () => {
  it('keeps proto-loader and protobufjs out of the Recall library and the recall command until a .proto is read', () => {
    for (const module of ['dist/lib/recall/index.js', 'dist/server/cli/recall.js']) {
      const loaded = packagesLoadedBy(join(repoRoot, module));
      expect(loaded, module).toContain('node-forge'); // the check sees CommonJS packages at all
      expect(loaded.filter((name) => /proto/.test(name)), module).toEqual([]);
    }
  });
});
