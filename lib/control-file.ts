/**
 * Control files: TypeScript modules whose default export is made by `serverControl({...})` or
 * `clientControl({...})`. This file holds what both sides share: the metadata, the brand, and loading.
 */
import { AutotestError } from './errors.js';
import { loadModule, ModuleLoadError } from './module-loader.js';

export type TestType = 'server' | 'client';
export type TestTime = 'FAST' | 'SHORT' | 'MEDIUM' | 'LONG' | 'LENGTHY';

/** autotest's control variables, as a literal object so tools can list tests without running them. */
export interface ControlMetadata {
  /** The name users type (`test_RecallServer`). */
  name: string;
  author?: string;
  /** Expected duration class. @default 'SHORT' */
  time?: TestTime;
  /** Labels a machine must have to run this. */
  dependencies?: readonly string[];
  /** What the test does and which arguments it takes. */
  doc?: string;
  /** Suites and other attributes (`suite:smoke`). */
  attributes?: readonly string[];
}

const CONTROL_BRAND = Symbol.for('autotest.control');

export interface ControlFile<Context> extends ControlMetadata {
  readonly testType: TestType;
  run(context: Context): Promise<void> | void;
  readonly [CONTROL_BRAND]: true;
}

export class ControlFileError extends AutotestError {}

/** Used by `serverControl` and `clientControl`: checks the literal and brands it. */
export function defineControl<Context>(
  testType: TestType,
  definition: ControlMetadata & { run(context: Context): Promise<void> | void },
): ControlFile<Context> {
  if (typeof definition?.name !== 'string' || definition.name === '') {
    throw new ControlFileError('ERR_CONTROL_NAME', `${testType}Control({...}) needs a name: the test name users type`);
  }
  if (typeof definition.run !== 'function') {
    throw new ControlFileError('ERR_CONTROL_RUN', `${testType}Control({ name: '${definition.name}' }) needs a run({ job, ... }) function`);
  }
  return Object.freeze({ time: 'SHORT' as const, ...definition, testType, [CONTROL_BRAND]: true as const });
}

export function isControlFile(value: unknown): value is ControlFile<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CONTROL_BRAND] === true;
}

export interface LoadedControlFile<Context> {
  readonly path: string;
  readonly control: ControlFile<Context>;
  /** Maps an error thrown by `run` to the control file's line. */
  locate(error: unknown): { file: string; line: number; column: number } | undefined;
}

/** Loads a control file. Errors name the file, line and column. */
export async function loadControlFile<Context>(path: string): Promise<LoadedControlFile<Context>> {
  let loaded;
  try {
    loaded = await loadModule(path);
  } catch (error) {
    if (error instanceof ModuleLoadError) {
      throw new ControlFileError(error.code.replace('MODULE', 'CONTROL'), `control file ${error.message}`, { cause: error });
    }
    throw error;
  }
  const control = loaded.exports.default;
  if (!isControlFile(control)) {
    throw new ControlFileError(
      'ERR_CONTROL_EXPORT',
      `control file ${path}: its default export must be serverControl({...}) or clientControl({...}), got ${typeof control}`,
    );
  }
  return { path: loaded.path, control: control as ControlFile<Context>, locate: loaded.locate };
}
