#!/usr/bin/env node
// Transpiles the TypeScript sources to dist/ (one file in, one file out; no type-check: `npm run check` does that)
// and bundles the device-side client into one file that needs nothing but Node on the device.
import { build } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceFolders = ['lib', 'server', 'client'];

function listTs(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listTs(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

// dist/ is not wiped first: another process (a second test run) may be loading from it right now.
const entryPoints = [join(root, 'index.ts'), ...sourceFolders.flatMap((f) => listTs(join(root, f)))];
await build({
  entryPoints,
  outbase: root,
  outdir: join(root, 'dist'),
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
