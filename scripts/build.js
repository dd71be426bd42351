#!/usr/bin/env node
// Transpiles the TypeScript sources to dist/ (one file in, one file out; no type-check: `npm run check` does that)
// and bundles the device-side client into one file that needs nothing but Node on the device.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
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

// The client package: what is installed on a device as `client-autotest`. It needs only Node there.
//   bin/autotest-client.js                the harness command
//   node_modules/autotest/client.js       the client API, one bundle; tests compiled for the device import
//                                         `autotest/client` (or `autotest`) and resolve here, so the harness
//                                         and the tests share one copy of the classes
const clientRoot = join(root, 'dist', 'client-package');
await build({
  entryPoints: [join(root, 'client', 'index.ts')],
  outfile: join(clientRoot, 'node_modules', 'autotest', 'client.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node18',
  // Only the server compiles TypeScript; the device gets compiled tests.
  external: ['esbuild'],
  // Bundled CommonJS dependencies call require() for Node's own modules.
  banner: { js: "import { createRequire as __autotestRequire } from 'node:module'; const require = __autotestRequire(import.meta.url);" },
  logLevel: 'warning',
});
writeFileSync(
  join(clientRoot, 'node_modules', 'autotest', 'package.json'),
  JSON.stringify({ name: 'autotest', type: 'module', exports: { '.': './client.js', './client': './client.js' } }, null, 2) + '\n',
);
mkdirSync(join(clientRoot, 'bin'), { recursive: true });
writeFileSync(
  join(clientRoot, 'bin', 'autotest-client.js'),
  "#!/usr/bin/env node\nimport { runClientHarness } from 'autotest/client';\n\nawait runClientHarness(process.argv.slice(2));\n",
  { mode: 0o755 },
);
writeFileSync(join(clientRoot, 'package.json'), JSON.stringify({ type: 'module', private: true }, null, 2) + '\n');
