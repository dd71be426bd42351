/**
 * drone --redis URL --results STORE --name NAME: runs the lab's queued jobs on this server, several at once.
 *
 * SIGTERM or Ctrl-C: stop taking jobs and let the running ones finish; a second one stops them and puts them
 * back in the queue for another drone; a third exits at once. Without --redis it uses the embedded redis-server
 * in the state folder.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import pino from 'pino';
import { reasonOf } from '../../lib/errors.js';
import { Drone } from '../scheduler/drone.js';
import { defaultStateDir, resolveRedis } from '../scheduler/embedded-redis.js';

const program = new Command('drone')
  .description('Run queued lab jobs on this server.')
  .option('--redis <url>', 'Redis: redis://HOST:PORT or unix:///PATH (default: the embedded one)')
  .requiredOption('--results <store>', 'results server URL (http://HOST:PORT) or a folder')
  .option('--token-file <file>', 'upload token for the results server (default: $RESULTS_TOKEN)')
  .option('--name <name>', 'this drone, as the inventory names it', hostname())
  .option('--state <dir>', 'state folder (results being written, upload spool, embedded Redis)', defaultStateDir())
  .option('--max-jobs <n>', 'jobs run at once', (v) => Number(v), 8)
  .option('--lease-ms <ms>', 'device lease period, renewed every third of it', (v) => Number(v), 30_000)
  .option('--retry-ms <ms>', 'first delay before a job waiting for devices is tried again', (v) => Number(v), 500)
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
program.parse();
const o = program.opts<{ redis?: string; results: string; tokenFile?: string; name: string; state: string; maxJobs: number; leaseMs: number; retryMs: number }>();
for (const [flag, value, min] of [['--max-jobs', o.maxJobs, 1], ['--lease-ms', o.leaseMs, 300], ['--retry-ms', o.retryMs, 10]] as const) {
  if (!Number.isInteger(value) || value < min) {
    process.stderr.write(`drone: ${flag} ${value} is not a whole number >= ${min}\n`);
    process.exit(2);
  }
}

const logger = pino({ level: process.env.DRONE_LOG_LEVEL ?? 'info', base: null }, pino.destination(2));
let drone: Drone | undefined;
let release = async () => {};
try {
  const token = o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : process.env.RESULTS_TOKEN;
  const redis = await resolveRedis(o.redis, o.state);
  release = redis.release;
  drone = await Drone.start({ redisUrl: redis.url, name: o.name, results: o.results, ...(token ? { token } : {}), stateDir: o.state, maxJobs: o.maxJobs, leaseMs: o.leaseMs, retryMs: o.retryMs, logger });
  process.stderr.write(`drone ${o.name} ready (redis ${redis.url})\n`);
} catch (error) {
  process.stderr.write(`drone: ${reasonOf(error)}\n`);
  await release().catch(() => {});
  process.exit(1);
}

let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals += 1;
  if (signals === 1) process.stderr.write(`drone ${o.name}: ${signal}: finishing running jobs (again: requeue them)\n`);
  if (signals === 2) process.stderr.write(`drone ${o.name}: ${signal}: stopping and requeueing running jobs (again: exit at once)\n`);
  if (signals >= 3) process.exit(143);
  void drone!
    .stop({ requeue: signals >= 2 })
    .then(() => release())
    .then(() => process.exit(0), (error: unknown) => {
      process.stderr.write(`drone: ${reasonOf(error)}\n`);
      process.exit(1);
    });
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
