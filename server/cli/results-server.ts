/**
 * results-server --dir STORE [--listen HOST:PORT] --token-file FILE [--redis URL]
 *
 * Serves a folder of job results over HTTP, takes drones' uploads (authenticated with the token in FILE) and,
 * with --redis, shows the lab's jobs, queue and devices. Runs until SIGINT or SIGTERM. docs/results-server.md.
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { isAutotestError, reasonOf } from '../../lib/errors.js';
import { ResultsStoreError } from '../results-server/results-store-error.js';
import { startResultsServer } from '../results-server/results-server.js';
import { mountWebView } from '../results-server/web-view.js';
import { SchedulerClient } from '../scheduler/scheduler-client.js';
import { exitTwoOnUsageErrors } from './usage-errors.js';

function listenAddress(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw new InvalidArgumentError(`expected HOST:PORT (e.g. 127.0.0.1:8080), got "${value}"`);
  return { host: match[1] ?? match[2]!, port };
}

async function readToken(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new ResultsStoreError(
      'ERR_RESULTS_OPTIONS',
      `cannot read the token file ${file}: ${(error as Error).message}; create it with \`openssl rand -hex 32 > ${file}\``,
      { cause: error },
    );
  }
}

async function main(): Promise<void> {
  const program = new Command('results-server')
    .description("Serve job results, accept drones' uploads, and show the lab's jobs, queue and devices.")
    .requiredOption('--dir <folder>', 'the results store folder (created when missing)')
    .requiredOption('--token-file <file>', 'file holding the token drones upload with')
    .addOption(
      new Option('--listen <host:port>', 'address to listen on')
        .default({ host: '127.0.0.1', port: 8080 }, '127.0.0.1:8080')
        .argParser(listenAddress),
    )
    .option(
      '--redis <url>',
      "the scheduler's Redis (redis://host:port or unix:///path/redis.sock): shows jobs, queue and devices",
    )
    .option('-v, --verbose', 'log requests and uploads to stderr')
    .showHelpAfterError();
  exitTwoOnUsageErrors(program).parse();
  const opts = program.opts<{
    dir: string;
    tokenFile: string;
    listen: { host: string; port: number };
    redis?: string;
    verbose?: boolean;
  }>();
  const logger = pino({ level: opts.verbose ? 'info' : 'warn' }, pino.destination(2));
  const token = await readToken(opts.tokenFile);
  const scheduler = opts.redis ? await SchedulerClient.connect(opts.redis) : undefined;
  const server = await startResultsServer({
    dir: opts.dir,
    token,
    host: opts.listen.host,
    port: opts.listen.port,
    logger,
    extend: (app, store) => mountWebView(app, { store, logger, ...(scheduler ? { data: scheduler } : {}) }),
  });
  process.stdout.write(`results-server: serving ${opts.dir} at ${server.url}\n`);
  const stop = (): void => {
    void server
      .close()
      .then(() => scheduler?.close())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const code = isAutotestError(error) ? ` [${error.code}]` : '';
  process.stderr.write(`results-server: ${reasonOf(error)}${code}\n`);
  // exit() rather than exitCode: an open Redis connection would keep the process alive.
  process.exit(isAutotestError(error) ? 2 : 1);
});
