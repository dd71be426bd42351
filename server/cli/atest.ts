/**
 * atest: the lab scheduler's command line (autotest's name for it).
 *
 *   atest inventory load lab.yaml
 *   atest submit dummy_Pass board=eve pool=cq --priority high      # prints the job id
 *   atest jobs | show ID | cancel ID | hosts | drones | lock HOST --reason R | unlock HOST | repair HOST
 *
 * Without --redis (or ATEST_REDIS) it uses the embedded redis-server in the state folder, starting it if needed.
 * Exit codes: 0 done, 1 it could not be done (Redis down, device still dead), 2 bad input (usage, unknown
 * labels, a control file that does not compile).
 */
import { Command } from 'commander';
import { userInfo } from 'node:os';
import { isAutotestError, reasonOf } from '../../lib/errors.js';
import { defaultStateDir, resolveRedis, type ResolvedRedis } from '../scheduler/embedded-redis.js';
import { loadInventory } from '../scheduler/inventory.js';
import { cancelJob, lockHost, repairHost, unlockHost } from '../scheduler/scheduler-admin.js';
import { SchedulerClient } from '../scheduler/scheduler-client.js';
import { SubmitError, submitJobs } from '../scheduler/submit.js';
import { renderDrones, renderHosts, renderJob, renderJobs } from './atest-output.js';
import { collect } from './ssh-options.js';

/** Error codes that mean the user gave something wrong (exit 2). */
const BAD_INPUT = /^ERR_(SUBMIT|INVENTORY|LABEL|CONTROL|TEST|SUITE|NO_JOB|NO_HOST|LOCK|JOB_ENDED|NO_INVENTORY|REDIS_URL)/;
const PRIORITIES: Record<string, number> = { low: 20, medium: 50, high: 80, urgent: 100 };

const program = new Command('atest')
  .description('Submit jobs to the lab scheduler and look at its jobs and devices.')
  .option('--redis <url>', 'Redis: redis://HOST:PORT or unix:///PATH (default: $ATEST_REDIS, else the embedded one)')
  .option('--state <dir>', 'state folder of the embedded Redis', defaultStateDir())
  .option('--json', 'print JSON for scripts')
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

let connection: ResolvedRedis | undefined;
let client: SchedulerClient | undefined;
async function connect(): Promise<SchedulerClient> {
  const opts = program.opts<{ redis?: string; state: string }>();
  connection = await resolveRedis(opts.redis ?? process.env.ATEST_REDIS, opts.state);
  client = await SchedulerClient.connect(connection.url);
  return client;
}
const json = (): boolean => Boolean(program.opts<{ json?: boolean }>().json);
const print = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const me = () => process.env.ATEST_USER ?? userInfo().username;

const inventory = program.command('inventory').description('the devices and drones of the lab');
inventory
  .command('check <file>')
  .description('validate an inventory file')
  .action(async (file: string) => {
    const parsed = await loadInventory(file);
    print(`${file}: ${parsed.devices.length} devices, ${parsed.drones.length} drones`);
  });
inventory
  .command('load <file>')
  .description('validate an inventory file and make it the scheduler\'s')
  .action(async (file: string) => {
    const parsed = await loadInventory(file);
    await (await connect()).hosts.publishInventory(parsed);
    print(`loaded ${parsed.devices.length} devices, ${parsed.drones.length} drones from ${file}`);
  });

program
  .command('submit')
  .description('queue tests (names, control files, suite:NAME); words like board=eve are labels the devices must have')
  .argument('<words...>', 'tests and key=value labels')
  .option('-a, --args <args>', "arguments for the control file: 'word key=value'", '')
  .option('-m, --host <name>', 'a device by name (repeatable, or comma-separated)', collect, [])
  .option('-l, --label <key=value>', 'a label the devices must have (repeatable)', collect, [])
  .option('-n, --count <n>', 'devices for a multi-machine control file', (v) => Number(v))
  .option('-p, --priority <p>', 'low, medium, high, urgent or 0..100 (higher first)', 'medium')
  .option('-t, --timeout <seconds>', 'abort the job after this long', (v) => Number(v), 0)
  .option('--tests-dir <dir>', 'another folder of tests (repeatable)', collect, [])
  .action(async (words: string[], o: { args: string; host: string[]; label: string[]; count?: number; priority: string; timeout: number; testsDir: string[] }) => {
    const priority = PRIORITIES[o.priority] ?? (/^\d+$/.test(o.priority) ? Number(o.priority) : undefined);
    if (priority === undefined) throw new SubmitError('ERR_SUBMIT_PRIORITY', `priority ${o.priority} is not 0..100 or low, medium, high, urgent`);
    const records = await submitJobs(await connect(), {
      tests: words.filter((w) => !w.includes('=')),
      labels: [...o.label, ...words.filter((w) => w.includes('='))],
      targets: o.host.flatMap((h) => h.split(',')).filter(Boolean),
      ...(o.count !== undefined ? { count: o.count } : {}),
      args: o.args,
      priority,
      timeoutSec: o.timeout,
      user: me(),
      testsDirs: o.testsDir,
    });
    print(json() ? JSON.stringify(records.map((r) => r.id)) : records.map((r) => r.id).join('\n'));
  });

program
  .command('jobs')
  .description('list jobs, newest first')
  .option('--status <status>', 'QUEUED, RUNNING, GOOD, FAIL, ERROR, ABORT or CANCELLED')
  .option('--user <user>')
  .option('--label <key=value>')
  .option('--limit <n>', 'at most this many', (v) => Number(v), 50)
  .action(async (o: { status?: string; user?: string; label?: string; limit: number }) => {
    const jobs = (await (await connect()).listJobs(o)).slice(0, o.limit);
    print(json() ? JSON.stringify(jobs, null, 2) : renderJobs(jobs));
  });

program
  .command('show <id>')
  .description('one job: status, attempts, infrastructure retries and their reasons, results')
  .action(async (id: string) => {
    const record = await (await connect()).getJob(id);
    if (!record) throw Object.assign(new Error(`no job ${id}: see atest jobs`), { code: 'ERR_NO_JOB' });
    print(json() ? JSON.stringify(record, null, 2) : renderJob(record));
  });

program
  .command('cancel <id>')
  .action(async (id: string) => {
    const { running } = await cancelJob(await connect(), id, me());
    print(running ? `job ${id}: its drone stops it now` : `job ${id} cancelled`);
  });

program
  .command('hosts')
  .description('devices: labels, gateway drone, lease, current job, lock and repair state')
  .action(async () => {
    const hosts = await (await connect()).listHosts();
    print(json() ? JSON.stringify(hosts, null, 2) : renderHosts(hosts));
  });

program
  .command('drones')
  .description('drones: alive or not (heartbeat), running jobs')
  .action(async () => {
    const drones = await (await connect()).listDrones();
    print(json() ? JSON.stringify(drones, null, 2) : renderDrones(drones));
  });

program
  .command('lock <host>')
  .requiredOption('-r, --reason <reason>', 'why (shown in atest hosts)')
  .action(async (host: string, o: { reason: string }) => {
    await lockHost(await connect(), host, me(), o.reason);
    print(`${host} locked`);
  });
program.command('unlock <host>').action(async (host: string) => {
  await unlockHost(await connect(), host);
  print(`${host} unlocked`);
});
program
  .command('repair <host>')
  .description('verify a device marked for repair; it takes jobs again once it answers')
  .action(async (host: string) => {
    const why = await repairHost(await connect(), host);
    if (why) {
      process.stderr.write(`atest: ${host} still needs repair: ${why}\n`);
      process.exitCode = 1;
    } else print(`${host} verified: it takes jobs again`);
  });

try {
  await program.parseAsync();
} catch (error) {
  const code = isAutotestError(error) ? error.code : (error as { code?: string }).code;
  process.stderr.write(`atest: ${reasonOf(error)}\n`);
  process.exitCode = code && BAD_INPUT.test(code) ? 2 : 1;
}
await client?.close().catch(() => {});
await connection?.release().catch(() => {});
setTimeout(() => process.exit(), 100).unref();
