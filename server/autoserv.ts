/**
 * autoserv as a function of (control file, machines, results folder): it makes the results folder and a
 * ServerJob, runs the control file, and writes results.json and junit.xml. The CLI wraps it; a queue
 * worker could call it unchanged.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseControlArgs } from '../lib/args.js';
import { loadControlFile, type LoadedControlFile } from '../lib/control-file.js';
import { AutotestError, JobError, isAutotestError, reasonOf } from '../lib/errors.js';
import { writeKeyval } from '../lib/keyval.js';
import { createLogger, openLevelFiles, type Logger } from '../lib/logging.js';
import { builtInTestsDir } from '../lib/package-root.js';
import { writeJobReport } from '../lib/results/report/write-job-report.js';
import { writeJobResults, type JobSummary } from '../lib/results/write-job-results.js';
import { isPassing } from '../lib/status.js';
import type { StatusLogEntry } from '../lib/status-log.js';
import type { ServerControlContext } from './control.js';
import { createHost } from './hosts/index.js';
import { runClientControlOnMachines } from './client-wrapper.js';
import { finishPidfile, startPidfile } from './autoserv-pidfile.js';
import { ServerJob } from './server-job.js';

/** autoserv's exit codes. */
export const EXIT = { passed: 0, testFailed: 1, jobError: 2, interrupted: 130 } as const;

export interface AutoservOptions {
  control: string;
  machines?: readonly string[];
  /** @default `results/<job id>` under the current folder */
  resultsDir?: string;
  /** The `-a` string (or words). */
  args?: string | readonly string[];
  /** Extra folders with tests, searched before the built-in `site_tests/`. */
  testsDirs?: readonly string[];
  /** Job label, written to the job keyval. */
  label?: string;
  signal?: AbortSignal;
  /** Called for every status line, e.g. to print progress. */
  onStatus?: (entry: StatusLogEntry, indent: number, machine?: string) => void;
  /** Another log destination besides the debug/ files (the console). */
  logStream?: NodeJS.WritableStream;
  /** How the job was started, shown in the report. @default `autoserv` with these options */
  commandLine?: readonly string[];
}

export interface AutoservResult {
  exitCode: number;
  resultsDir: string;
  summary: JobSummary;
}

export class ResultsDirError extends AutotestError {}

function jobId(control: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${basename(control)
    .replace(/\.(ts|js)$/, '')
    .replace(/^control$/, basename(resolve(control, '..')))}`;
}

async function prepareResultsDir(dir: string): Promise<void> {
  if (existsSync(join(dir, 'status.log'))) {
    throw new ResultsDirError(
      'ERR_RESULTS_EXISTS',
      `results folder ${dir} already holds a job's status.log: choose another with -r`,
    );
  }
  await mkdir(join(dir, 'debug'), { recursive: true });
}

/** Runs a server control file; an error thrown by its code is reported at the control file's line. */
async function runServerControl(loaded: LoadedControlFile<ServerControlContext>, context: ServerControlContext): Promise<void> {
  try {
    await loaded.control.run(context);
  } catch (runError) {
    const where = loaded.locate(runError);
    if (!where || isAutotestError(runError)) throw runError;
    throw new JobError('ERR_CONTROL_RUN', `${where.file}:${where.line}:${where.column}: ${reasonOf(runError)}`, { cause: runError });
  }
}

export async function autoserv(options: AutoservOptions): Promise<AutoservResult> {
  const machines = options.machines ?? [];
  const resultsDir = resolve(options.resultsDir ?? join('results', jobId(options.control)));
  await prepareResultsDir(resultsDir);
  await startPidfile(resultsDir);
  const files = openLevelFiles(join(resultsDir, 'debug'), 'autoserv');
  const logger: Logger = createLogger(files.streams, { component: 'autoserv' }, options.logStream);
  const startedMs = Date.now();
  const started = Math.floor(startedMs / 1000);
  const job = new ServerJob({
    resultsDir,
    machines,
    testsDirs: [...(options.testsDirs ?? []).map((d) => resolve(d)), builtInTestsDir],
    logger,
    logStreams: files.streams,
    signal: options.signal,
    onStatus: options.onStatus,
  });
  await writeKeyval(join(resultsDir, 'keyval'), {
    ...(options.label ? { label: options.label } : {}),
    user: userInfo().username,
    hostname: machines.join(','),
    drone: hostname(),
    status_version: 1,
    job_started: started,
  });

  let error: unknown;
  let name = basename(options.control);
  try {
    const args = parseControlArgs(typeof options.args === 'string' ? options.args : (options.args ?? []));
    const loaded = await loadControlFile<ServerControlContext>(options.control);
    name = loaded.control.name;
    const connect: typeof createHost = (machine, hostOptions) =>
      // Host connections log into the job's debug logs, as the machine's component.
      createHost(machine, { logger: job.logger.child({ host: machine }), ...hostOptions });
    logger.info({ control: loaded.path, machines, args }, `running ${loaded.control.name}`);
    if (loaded.control.testType === 'client') {
      if (machines.length === 0) {
        throw new JobError(
          'ERR_CONTROL_MACHINES',
          `${options.control} is a client control file: give the machines to run it on with -m`,
        );
      }
      await copyFile(loaded.path, join(resultsDir, 'control'));
      await runClientControlOnMachines(job, loaded.path, args, connect);
    } else {
      await copyFile(loaded.path, join(resultsDir, 'control.srv'));
      await runServerControl(loaded, {
        job,
        machines,
        args,
        hosts: { createHost: connect },
        parallelSimple: (fn, list, opts) => job.parallelSimple(fn, list, opts),
      });
    }
  } catch (caught) {
    error = caught;
  }

  const interrupted = job.signal.aborted;
  if (error !== undefined || interrupted) {
    const reason = interrupted ? reasonOf(job.signal.reason) : reasonOf(error);
    job.rootContext.status.closeAll('END ABORT', reason);
    job.record('INFO', undefined, undefined, reason, {
      job_abort_reason: reason.replace(/[\t\n\r\v\f]+/g, ' '),
    });
    logger.error({ err: error }, `job ${interrupted ? 'interrupted' : 'aborted'}: ${reason}`);
  }
  const finishedMs = Date.now();
  const finished = Math.floor(finishedMs / 1000);
  await writeKeyval(join(resultsDir, 'keyval'), { job_finished: finished });
  const summary = await writeJobResults(
    resultsDir,
    {
      name,
      started,
      finished,
      startedMs,
      finishedMs,
      machines: [...machines],
      interrupted,
      commandLine: [...(options.commandLine ?? defaultCommandLine(options))],
      control: resolve(options.control),
      ...(error !== undefined ? { error: reasonOf(error) } : {}),
    },
    (passed) =>
      interrupted
        ? EXIT.interrupted
        : error !== undefined
          ? EXIT.jobError
          : passed
            ? EXIT.passed
            : EXIT.testFailed,
  );
  const signal = interrupted ? /\b(SIG[A-Z]+)\b/.exec(reasonOf(job.signal.reason))?.[1] : undefined;
  await finishPidfile(resultsDir, {
    exitCode: summary.job.exitCode,
    signal: signal as NodeJS.Signals | undefined,
    testsFailed: summary.tests.filter((t) => !isPassing(t.status)).length,
  });
  await writeJobReport(summary).catch((reportError: unknown) => logger.error({ err: reportError }, `cannot write the report: ${reasonOf(reportError)}`));
  files.close();
  return { exitCode: summary.job.exitCode, resultsDir, summary };
}

function defaultCommandLine(options: AutoservOptions): string[] {
  const machines = options.machines?.length ? ['-m', options.machines.join(',')] : [];
  const args = typeof options.args === 'string' ? options.args : (options.args ?? []).join(' ');
  return ['autoserv', ...machines, ...(args ? ['-a', args] : []), options.control];
}
