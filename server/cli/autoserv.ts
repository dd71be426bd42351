/**
 * autoserv [-m host1,host2] [-r DIR] [-a ARGS] [--tests-dir DIR] CONTROL
 *
 * Exit codes: 0 every test passed; 1 a test did not pass; 2 the job itself broke (control file, hosts,
 * infrastructure, bad arguments); 130 interrupted (SIGINT or SIGTERM). Ends with run-remote's summary table.
 */
import { Command } from 'commander';
import { join } from 'node:path';
import { reasonOf } from '../../lib/errors.js';
import { REPORT_FILE } from '../../lib/results/report/write-job-report.js';
import { autoserv, EXIT } from '../autoserv.js';
import { abortOnSignals } from './interrupt.js';
import { addSshOptions, applySshOptions, collect, type SshFlags } from './ssh-options.js';
import { renderSummary, summaryRows } from '../summary-table.js';
import { statusPrinter } from './status-printer.js';
import { exitTwoOnUsageErrors } from './usage-errors.js';

const program = new Command('autoserv')
  .description('Run a server control file against machines and write autotest-format results.')
  .argument('<control>', 'the control file (TypeScript) to run')
  .option('-m, --machines <list>', 'machines, comma or space separated (host, user@host:port)', '')
  .option('-r, --results <dir>', 'results folder (default: results/<job id>)')
  .option('-a, --args <args>', "arguments for the control file: 'word key=value key2=\"a b\"'", '')
  .option('--tests-dir <dir>', 'another folder of tests, searched before site_tests/ (repeatable)', collect, [])
  .option('-l, --label <label>', 'job label, written to the job keyval')
  .option('-q, --quiet', 'do not print status lines')
  .showHelpAfterError();
addSshOptions(program);
exitTwoOnUsageErrors(program);

program.parse();
const opts = program.opts<{
  machines: string;
  results?: string;
  args: string;
  testsDir: string[];
  label?: string;
  quiet?: boolean;
} & SshFlags>();

applySshOptions(opts);

const controller = abortOnSignals();
// A test that waits on a promise nothing will settle leaves Node's event loop empty, and Node would end the
// process with code 13 mid-test; this timer keeps the job alive until its timeout or a signal stops the test.
const keepAlive = setInterval(() => {}, 1 << 30);
try {
  const result = await autoserv({
    control: program.args[0]!,
    machines: opts.machines.split(/[\s,]+/).filter(Boolean),
    resultsDir: opts.results,
    args: opts.args,
    testsDirs: opts.testsDir,
    label: opts.label,
    signal: controller.signal,
    onStatus: opts.quiet ? undefined : statusPrinter(process.stdout),
    commandLine: ['autoserv', ...process.argv.slice(2)],
  });
  const { summary } = result;
  if (summary.job.error) process.stderr.write(`autoserv: ${summary.job.error}\n`);
  const machines = summary.job.machines;
  process.stdout.write(renderSummary(summaryRows(summary.job.name, summary, machines), result.resultsDir, { color: process.stdout.isTTY === true, width: process.stdout.columns ?? 120 }));
  process.stdout.write(`results: ${result.resultsDir}\nreport: ${join(result.resultsDir, REPORT_FILE)}\n`);
  process.exitCode = result.exitCode;
} catch (error) {
  process.stderr.write(`autoserv: ${reasonOf(error)}\n`);
  process.exitCode = EXIT.jobError;
}
clearInterval(keepAlive);
// Hosts and servers a control file left open must not keep the process alive after the job.
setTimeout(() => process.exit(), 100).unref();
