/**
 * Loads TypeScript modules (control files, tests) at run time: esbuild bundles the file and its relative
 * imports into one ESM file under `.cache/modules/`, then it is imported. No type-check happens here
 * (`npm run check` does that), so loading costs a few milliseconds.
 *
 * Imports of the public API (`autotest`, `autotest/server`, `autotest/client`) are not bundled: they point
 * at the very modules the running job uses, so classes and error brands are shared, not copied.
 */
import type { Message, Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AutotestError } from './errors.js';
import { packageRoot } from './package-root.js';

export class ModuleLoadError extends AutotestError {
  /** Where the problem is in the user's file, when known. */
  readonly location: { file: string; line: number; column: number } | undefined;
  constructor(code: string, message: string, location?: { file: string; line: number; column: number }, cause?: unknown) {
    super(code, message, { cause });
    this.location = location;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const ownExtension = extname(fileURLToPath(import.meta.url)); // .ts from source, .js from dist

const PUBLIC_ENTRIES: Record<string, string> = {
  autotest: resolve(here, `../index${ownExtension}`),
  'autotest/server': resolve(here, `../server/index${ownExtension}`),
  'autotest/client': resolve(here, `../client/index${ownExtension}`),
  'autotest/recall': resolve(here, `recall/index${ownExtension}`),
};

const publicApiPlugin: Plugin = {
  name: 'autotest-public-api',
  setup(b) {
    b.onResolve({ filter: /^autotest(\/(server|client|recall))?$/ }, (args) => ({
      path: pathToFileURL(PUBLIC_ENTRIES[args.path]!).href,
      external: true,
    }));
  },
};

export interface LoadedModule {
  readonly path: string;
  readonly exports: Record<string, unknown>;
  /** Maps a position in the loaded code back to the user's file; used to point errors at the right line. */
  locate(error: unknown): { file: string; line: number; column: number } | undefined;
}

/**
 * Turns an esbuild failure into `ERR_MODULE_COMPILE` naming file, line and column (paths in esbuild's messages
 * are relative to `workingDir`). Anything that is not an esbuild failure is returned unchanged.
 */
export function compileError(error: unknown, file: string, workingDir: string): unknown {
  const first = (error as { errors?: Message[] }).errors?.[0];
  if (!first) return error;
  const loc = first.location;
  const location = loc ? { file: resolve(workingDir, loc.file), line: loc.line, column: loc.column + 1 } : undefined;
  const where = location ? `${location.file}:${location.line}:${location.column}` : file;
  return new ModuleLoadError('ERR_MODULE_COMPILE', `${where}: ${first.text}`, location, error);
}

/** Imports an already compiled module (on a device, where tests arrive compiled and there is no esbuild). */
async function importCompiled(file: string): Promise<LoadedModule> {
  try {
    return { path: file, exports: (await import(pathToFileURL(file).href)) as Record<string, unknown>, locate: () => undefined };
  } catch (error) {
    throw new ModuleLoadError('ERR_MODULE_LOAD', `${file}: ${error instanceof Error ? error.message : String(error)}`, undefined, error);
  }
}

/** Bundles and imports a TypeScript module file; JavaScript files are imported as they are. */
export async function loadModule(path: string): Promise<LoadedModule> {
  const file = resolve(path);
  if (!existsSync(file)) throw new ModuleLoadError('ERR_MODULE_NOT_FOUND', `${path}: no such file`);
  if (/\.(js|mjs)$/.test(file)) return importCompiled(file);
  // Loaded lazily: the device-side bundle never compiles, and must not carry esbuild.
  const { build } = await import('esbuild');
  let output;
  try {
    output = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'external',
      outfile: join(packageRoot, '.cache', 'modules', 'out.mjs'),
      absWorkingDir: packageRoot,
      logLevel: 'silent',
      plugins: [publicApiPlugin],
    });
  } catch (error) {
    throw compileError(error, file, packageRoot);
  }
  const code = output.outputFiles.find((f) => f.path.endsWith('.mjs'))!.text;
  const mapText = output.outputFiles.find((f) => f.path.endsWith('.map'))?.text;
  const hash = createHash('sha256').update(file).update(code).digest('hex').slice(0, 16);
  const outDir = join(packageRoot, '.cache', 'modules');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `${hash}.mjs`);
  if (!existsSync(outFile)) {
    // Several processes may load the same file at once: never let one import another's half-written copy.
    const temp = `${outFile}.${process.pid}.tmp`;
    writeFileSync(temp, code);
    renameSync(temp, outFile);
  }
  const sourceMap = mapText ? new SourceMap(JSON.parse(mapText)) : undefined;

  const locate = (error: unknown) => locateInSource(error, outFile, outDir, sourceMap);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(outFile).href)) as Record<string, unknown>;
  } catch (error) {
    const where = locate(error);
    const message = error instanceof Error ? error.message : String(error);
    throw new ModuleLoadError(
      'ERR_MODULE_LOAD',
      where ? `${where.file}:${where.line}:${where.column}: ${message}` : `${file}: ${message}`,
      where,
      error,
    );
  }
  return { path: file, exports, locate };
}

/** Finds the first stack frame inside the bundled file and maps it to the original source. */
function locateInSource(error: unknown, outFile: string, outDir: string, map: SourceMap | undefined) {
  if (!map || !(error instanceof Error) || !error.stack) return undefined;
  const name = outFile.split('/').pop()!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const frame = new RegExp(`${name}:(\\d+):(\\d+)`).exec(error.stack);
  if (!frame) return undefined;
  const entry = map.findEntry(Number(frame[1]) - 1, Number(frame[2]) - 1) as {
    originalSource?: string;
    originalLine?: number;
    originalColumn?: number;
  };
  if (!entry.originalSource) return undefined;
  const source = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : resolve(outDir, entry.originalSource);
  const shown = relative(process.cwd(), source);
  return { file: shown && !shown.startsWith('..') ? shown : source, line: (entry.originalLine ?? 0) + 1, column: (entry.originalColumn ?? 0) + 1 };
}
