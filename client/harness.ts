/**
 * The device-side command, `autotest-client`:
 *
 *   autotest-client start --control FILE --results DIR [--args STR] [--tests-dir DIR]...
 *       starts the job detached from the SSH session (autotestd's role) and prints its pid; a dropped
 *       connection does not stop the job, and the server re-attaches by reading `DIR/status` from an offset.
 *   autotest-client run ...   the same, in the foreground (what `start` runs).
 *
 * `DIR/.autotestd/` holds `pid`, the job's `stdout`/`stderr`, and `exit_code` once it ended (`+000`).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TestAbort } from '../lib/errors.js';
import { runClientJob } from './client-job.js';

const OPTIONS = {
  control: { type: 'string' },
  results: { type: 'string' },
  args: { type: 'string' },
  'tests-dir': { type: 'string', multiple: true },
} satisfies ParseArgsConfig['options'];

function usage(message: string): never {
  process.stderr.write(`autotest-client: ${message}\nusage: autotest-client start|run --control FILE --results DIR [--args STR] [--tests-dir DIR]...\n`);
  process.exit(2);
}

/** autotestd writes the exit code as `%+04d`. */
export function formatExitCode(code: number): string {
  return `${code < 0 ? '-' : '+'}${String(Math.abs(code)).padStart(3, '0')}`;
}

export async function runClientHarness(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, strict: true });
  } catch (error) {
    usage((error as Error).message);
  }
  const { control, results, args } = parsed.values;
  if (!control || !results) usage('--control and --results are required');
  const resultsDir = resolve(results);
  const stateDir = join(resultsDir, '.autotestd');
  mkdirSync(stateDir, { recursive: true });

  if (command === 'start') {
    const out = openSync(join(stateDir, 'stdout'), 'a');
    const err = openSync(join(stateDir, 'stderr'), 'a');
    const child = spawn(process.execPath, [process.argv[1]!, 'run', ...rest], { detached: true, stdio: ['ignore', out, err] });
    writeFileSync(join(stateDir, 'pid'), `${child.pid}\n`);
    child.unref();
    process.stdout.write(`${child.pid}\n`);
    return;
  }
  if (command !== 'run') usage(`unknown command ${JSON.stringify(command)}`);

  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => controller.abort(new TestAbort(`client job interrupted by ${signal}`)));
  }
  // Keeps the job alive while a test waits on something that will never settle (its timeout stops it).
  const keepAlive = setInterval(() => {}, 1 << 30);
  const exitCode = await runClientJob({
    control: resolve(control),
    resultsDir,
    testsDirs: (parsed.values['tests-dir'] ?? []).map((d) => resolve(d)),
    args,
    signal: controller.signal,
  });
  clearInterval(keepAlive);
  writeFileSync(join(stateDir, 'exit_code'), formatExitCode(exitCode));
  process.exit(exitCode);
}
