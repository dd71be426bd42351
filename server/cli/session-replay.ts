/**
 * session-replay client|devtools TEST_RESULTS_DIR: reproduce a client test's browser session from its results
 * folder (devtools.jsonl and the run's Recall archive), with no device and no internet. docs/session-replay.md.
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { SESSION_LOG_FILE, SessionLog, SessionLogWriter, describeDifferences } from '../../client/index.js';
import { isAutotestError, reasonOf } from '../../lib/errors.js';
import { replayClientSide } from '../session-replay/client-replay.js';
import { replayDevtoolsSide } from '../session-replay/devtools-replay.js';
import { findArchive } from '../session-replay/find-archive.js';
import { LocalRecall } from '../session-replay/local-recall.js';
import { exitTwoOnUsageErrors } from './usage-errors.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive whole number of milliseconds, got ${JSON.stringify(value)}`);
  return n;
}

interface ClientOptions {
  archive?: string;
  chromium?: string;
  eventTimeoutMs: number;
  quietMs: number;
  record?: string;
  json?: boolean;
}

async function client(testDir: string, options: ClientOptions): Promise<void> {
  const log = SessionLog.read(join(testDir, SESSION_LOG_FILE));
  const archive = options.archive ?? findArchive(testDir);
  const recall = await LocalRecall.start(archive);
  try {
    const record = options.record ? SessionLogWriter.open(join(options.record, SESSION_LOG_FILE), { test: log.header.test, args: log.header.args, iterations: log.header.iterations }) : undefined;
    const result = await replayClientSide(log, {
      ...(options.chromium ? { executable: options.chromium } : {}),
      extraFlags: recall.chromiumFlags,
      eventTimeoutMs: options.eventTimeoutMs,
      quietMs: options.quietMs,
      ...(record ? { record } : {}),
    });
    const misses = recall.misses();
    if (options.json) {
      out(JSON.stringify({ test: log.header.test, archive, ...result, recallMisses: misses }, null, 2));
    } else {
      out(`${log.header.test}: replayed ${result.commands} commands and ${result.events} events in ${log.browsers.length} browser(s) against ${archive}: ${result.divergences.length} divergence(s), ${misses.length} request(s) missing from the archive`);
      for (const d of result.divergences) out(`DIVERGED ${d.message}${d.differences ? `: ${describeDifferences(d.differences)}` : ''}`);
      for (const miss of misses) out(`MISS ${miss.method} ${miss.url}`);
    }
    if (result.divergences.length > 0) process.exitCode = 1;
  } finally {
    await recall.close();
  }
}

interface DevtoolsOptions {
  testsDir: string[];
  out?: string;
  json?: boolean;
}

async function devtools(testDir: string, options: DevtoolsOptions): Promise<void> {
  const log = SessionLog.read(join(testDir, SESSION_LOG_FILE));
  const result = await replayDevtoolsSide(log, testDir, { testsDirs: options.testsDir, ...(options.out ? { outDir: options.out } : {}) });
  const same = result.keyvalDifferences.length === 0 && result.misses.length === 0 && (result.labStatus === undefined || result.labStatus === result.status);
  if (options.json) {
    out(JSON.stringify({ ...result, same }, null, 2));
  } else {
    out(`${result.test}: ${result.status} (lab run: ${result.labStatus ?? 'unknown'}), ${result.keyvalDifferences.length} keyval difference(s), ${result.misses.length} command(s) not in the log; results in ${result.outputDir}`);
    if (result.keyvalDifferences.length > 0) out(`KEYVALS ${describeDifferences(result.keyvalDifferences)}`);
    for (const miss of result.misses) out(`NOT IN LOG ${miss.message}`);
  }
  if (!same) process.exitCode = 1;
}

function run<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      const code = isAutotestError(error) ? ` [${error.code}]` : '';
      process.stderr.write(`session-replay: ${reasonOf(error).replace(/\s*\n\s*/g, ' ')}${code}\n`);
      process.exitCode = 2;
    }
  };
}

const program = exitTwoOnUsageErrors(
  new Command('session-replay')
    .description("Reproduce a client test's browser session from its results folder (devtools.jsonl + the run's Recall archive), offline.")
    .showHelpAfterError(),
);

program
  .command('client')
  .description("re-issue the logged DevTools commands to a local Chromium, with the run's archive played back on loopback; report every divergence")
  .argument('<test-results-dir>', "the client test's results folder, e.g. results/test_RecallServer/test_RecallServer/desktopui_UrlFetch.iteration1")
  .option('--archive <file>', 'the Recall archive to play back (default: archive.har.gz in the folder or its parent)')
  .option('--chromium <path>', 'the Chromium executable', '/usr/bin/chromium')
  .addOption(new Option('--event-timeout-ms <ms>', 'how long to wait for the events the log saw before each command').default(10_000).argParser(positiveInt))
  .addOption(new Option('--quiet-ms <ms>', 'stop waiting for them sooner once the browser has sent nothing for this long').default(1_500).argParser(positiveInt))
  .option('--record <dir>', "also log the replayed session to DIR/devtools.jsonl")
  .option('--json', 'print the report as JSON')
  .action(run(client));

program
  .command('devtools')
  .description("run the test's own code here with its browser answered from the log (no Chromium); compare status and keyvals with the lab run")
  .argument('<test-results-dir>', "the client test's results folder")
  .option('--tests-dir <dir>', 'more folders to find the test in (repeatable; site_tests/ is always searched)', (value: string, list: string[]) => [...list, value], [])
  .option('--out <dir>', 'where the replayed run writes its results (default: a new temporary folder)')
  .option('--json', 'print the report as JSON')
  .action(run(devtools));

await program.parseAsync();
