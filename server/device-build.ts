/**
 * Compiles what runs on a device: a client test folder (its `.ts` files bundled one by one, everything else
 * copied) and client control files. Imports of `autotest`/`autotest/client` stay imports: on the device they
 * resolve to the client package's API bundle. Output goes to `.cache/device-tests/NAME/`, rewritten only
 * when it changed, so packages built from it keep their md5 and devices are not reinstalled for nothing.
 */
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileError } from '../lib/module-loader.js';
import { packageRoot } from '../lib/package-root.js';

export const deviceTestsDir = join(packageRoot, '.cache', 'device-tests');
export const clientPackageDir = join(packageRoot, 'dist', 'client-package');

/** Compiles one TypeScript module (and its relative imports) into one ESM file for Node 18+ on a device. */
export async function compileForDevice(file: string): Promise<string> {
  try {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node18',
      packages: 'external',
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  } catch (error) {
    throw compileError(error, file, process.cwd());
  }
}

function writeIfChanged(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  writeFileSync(path, text);
}

/** Compiles a test folder for devices; returns the compiled folder. */
export async function buildDeviceTest(name: string, sourceDir: string, outRoot: string = deviceTestsDir): Promise<string> {
  const outDir = join(outRoot, name);
  mkdirSync(outDir, { recursive: true });
  const wanted = new Set<string>();
  for (const entry of readdirSync(sourceDir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const target = entry.name.replace(/\.ts$/, '.js');
      wanted.add(target);
      writeIfChanged(join(outDir, target), await compileForDevice(join(sourceDir, entry.name)));
    } else if (!entry.name.startsWith('.')) {
      // Data files and folders travel as they are.
      wanted.add(entry.name);
      cpSync(join(sourceDir, entry.name), join(outDir, entry.name), { recursive: true, preserveTimestamps: true });
    }
  }
  for (const stale of readdirSync(outDir)) if (!wanted.has(stale)) rmSync(join(outDir, stale), { recursive: true, force: true });
  return outDir;
}

