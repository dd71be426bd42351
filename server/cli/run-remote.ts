/**
 * run-remote --remote HOST [--remote HOST2 ...] [-a ARGS] [--results-dir DIR] [--ssh-key K] TEST_OR_CONTROL ...
 *
 * Runs tests (names, control files or `suite:NAME`) on devices through autoserv, one job per test with all
 * the hosts at once, shows progress, and ends with a summary table. Exits 0 only when every test passed,
 * 1 when a test did not, 2 when a job broke or the command line is wrong, 130 when interrupted.
 */
import { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { reasonOf } from '../../lib/errors.js';
import { REPORT_FILE } from '../../lib/results/report/write-job-report.js';
import { builtInTestsDir } from '../../lib/package-root.js';
import { autoserv, EXIT } from '../autoserv.js';
import { renderSummary, summaryRows, type SummaryRow } from '../summary-table.js';
import { resolveTests } from '../test-resolver.js';
import { abortOnSignals } from './interrupt.js';
import { progressPrinter } from './progress-printer.js';
import { addSshOptions, applySshOptions, collect, type SshFlags } from './ssh-options.js';
import { exitTwoOnUsageErrors, USAGE_EXIT_CODE } from './usage-errors.js';

const program = new Command('run-remote')
  .description('Run tests on devices and print a summary.')
  .argument('<tests...>', 'test names, control files, or suite:NAME')
  .requiredOption('--remote <host>', 'device to run on: host, user@host:port (repeatable)', collect, [])
  .option('-a, --args <args>', "arguments for the tests' control files: 'word key=value'", '')
  .option('--results-dir <dir>', 'where results go (default: results/run-remote-<date>-<time>)')
  .option('--tests-dir <dir>', 'another folder of tests, searched before site_tests/ (repeatable)', collect, [])
  .option('--ssh-options <options>', 'accepted for compatibility with run_remote_tests.sh; ssh2 takes no OpenSSH options', '')
  .option('-v, --verbose', 'print every status line')
  .showHelpAfterError();
addSshOptions(program);
exitTwoOnUsageErrors(program);

program.parse();
const opts = program.opts<{
  remote: string[];
  args: string;
  resultsDir?: string;
  testsDir: string[];
  sshOptions: string;
  verbose?: boolean;
} & SshFlags>();

if (opts.remote.length === 0) {
  program.error("error: required option '--remote <host>' not specified: name the device(s) to run on", { exitCode: USAGE_EXIT_CODE });
}

applySshOptions(opts);
if (opts.sshOptions) process.stderr.write(`run-remote: --ssh-options is ignored (${opts.sshOptions}): use --ssh-key, --ssh-user, --known-hosts\n`);

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
const root = resolve(opts.resultsDir ?? join('results', `run-remote-${stamp}`));
const testsDirs = [...opts.testsDir.map((d) => resolve(d)), builtInTestsDir];
const controller = abortOnSignals();
const keepAlive = setInterval(() => {}, 1 << 30);
let exitCode: number = EXIT.passed;
const rows: SummaryRow[] = [];
const reports: string[] = [];
const commandLine = ['run-remote', ...process.argv.slice(2)];
try {
  const tests = await resolveTests(program.args, testsDirs);
  mkdirSync(root, { recursive: true });
  const progress = progressPrinter(process.stderr, {
    total: tests.length * opts.remote.length,
    tty: process.stderr.isTTY === true && !opts.verbose,
    verbose: Boolean(opts.verbose),
    columns: process.stderr.columns,
  });
  for (const [index, test] of tests.entries()) {
    if (controller.signal.aborted) break;
    const resultsDir = join(root, tests.filter((t) => t.name === test.name).length > 1 ? `${test.name}.${index}` : test.name);
    progress.startTest(test.name, opts.remote);
    const result = await autoserv({
      control: test.control,
      machines: opts.remote,
      resultsDir,
      args: opts.args,
      testsDirs: opts.testsDir,
      signal: controller.signal,
      onStatus: (entry, indent, machine) => progress.onStatus(entry, indent, machine),
      commandLine,
    });
    progress.endTest(result.exitCode);
    rows.push(...summaryRows(test.name, result.summary, opts.remote));
    reports.push(join(resultsDir, REPORT_FILE));
    exitCode = Math.max(exitCode, result.exitCode === EXIT.interrupted ? EXIT.interrupted : result.exitCode);
  }
  progress.stop();
  process.stdout.write(renderSummary(rows, root, { color: process.stdout.isTTY === true, width: process.stdout.columns ?? 120 }));
  for (const report of reports) process.stdout.write(`Report: ${report}\n`);
} catch (error) {
  process.stderr.write(`run-remote: ${reasonOf(error)}\n`);
  exitCode = EXIT.jobError;
}
clearInterval(keepAlive);
process.exitCode = exitCode;
setTimeout(() => process.exit(), 100).unref();
