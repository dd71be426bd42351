/**
 * Runs client control files on a device (autotest's `server/autotest.py`): installs or updates the client
 * and the tests through packaging (only what changed), starts the client harness detached, follows its
 * status file and relays each line into the server's status.log, survives a dropped SSH connection by
 * re-attaching at the same offset, notices a reboot or a vanished device, enforces the timeout, and
 * fetches the client's results folder back.
 */
import { mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { AutotestError, TestAbort, TestError, reasonOf } from '../lib/errors.js';
import type { Job } from '../lib/job.js';
import { silentLogger, type Logger } from '../lib/logging.js';
import { PackageManager, packageRef, sourcesFromTree, type InstallResult, type PackageRepository } from '../lib/packages/index.js';
import { findTest } from '../lib/test-finder.js';
import { printable } from '../lib/recall/printable.js';
import { checkName } from '../lib/safe-name.js';
import type { TestStatus } from '../lib/status.js';
import { ClientStatusRelay } from './client-status-relay.js';
import { buildDeviceTest, clientPackageDir, deviceTestsDir } from './device-build.js';
import type { SSHHost } from './hosts/index.js';

export interface AutotestOptions {
  /** The client's root on the device. @default '/usr/local/autotest' */
  autodir?: string;
  /** Repositories tried before the server pushes packages itself (an HTTP devserver, say). */
  repositories?: readonly PackageRepository[];
  logger?: Logger;
}

export interface ClientRunOptions {
  /** The server job whose status.log receives the client's lines. */
  job: Job;
  /** Local folder the client's results are fetched into. */
  resultsDir: string;
  /** Prefix for relayed subdirs, so they stay relative to the server job's folder. */
  subdirPrefix?: string;
  /** Client tests to install before running (their packages). */
  tests?: readonly string[];
  /** `-a` arguments for the client control file. */
  args?: string;
  /** Seconds the whole client job may take. @default no limit */
  timeout?: number;
  /** Names the client's results folder on the device. @default 'default' */
  tag?: string;
  /** How often the status file is polled, in ms. @default 500 */
  pollIntervalMs?: number;
  /** Seconds to wait for a device that stopped answering. @default 120 */
  reconnectTimeoutSec?: number;
  signal?: AbortSignal;
}

export interface ClientRunResult {
  /** The worst status the client reported (ABORT when it never finished). */
  status: TestStatus;
  /** The harness's exit code, when it ended (0: completed). */
  exitCode: number | undefined;
  install: InstallResult[];
}

export class ClientRunError extends AutotestError {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class Autotest {
  readonly host: SSHHost;
  readonly autodir: string;
  readonly #repositories: readonly PackageRepository[];
  readonly #logger: Logger;

  constructor(host: SSHHost, options: AutotestOptions = {}) {
    this.host = host;
    this.autodir = options.autodir ?? '/usr/local/autotest';
    this.#repositories = options.repositories ?? [];
    this.#logger = (options.logger ?? silentLogger).child({ host: host.hostname, component: 'autotest' });
  }

  /** Installs the client and the given tests; a package already on the device is not sent again. */
  async install(tests: readonly string[], testsDirs: readonly string[]): Promise<InstallResult[]> {
    for (const name of tests) {
      const found = findTest(name, testsDirs);
      await buildDeviceTest(name, found.dir);
    }
    const manager = new PackageManager({
      runner: this.host,
      autodir: this.autodir,
      repositories: this.#repositories,
      sources: sourcesFromTree({ clientDir: clientPackageDir, testsDir: deviceTestsDir }),
      logger: this.#logger,
    });
    const results = await manager.install([packageRef('client'), ...tests.map((t) => packageRef('test', t))]);
    for (const r of results) this.#logger.info({ package: r.fileName, action: r.action, md5: r.md5 }, `${r.fileName}: ${r.action}`);
    return results;
  }

  /**
   * A client control file (as JavaScript) whose run() is `body`; the client API is in scope as `autotest`.
   * @example Autotest.controlFile('dummy_Pass', "await job.runTest('dummy_Pass', {});")
   */
  static controlFile(name: string, body: string): string {
    return [
      "import * as autotest from 'autotest/client';",
      '',
      `export default autotest.clientControl({ name: ${JSON.stringify(name)}, async run({ job }) {`,
      `  ${body}`,
      '} });',
      '',
    ].join('\n');
  }

  /** Runs a compiled client control file (JavaScript text) on the device and follows it to the end. */
  async run(controlJs: string, options: ClientRunOptions): Promise<ClientRunResult> {
    const install = await this.install(options.tests ?? [], options.job.testsDirs);
    // The tag names a folder the device empties with `rm -rf`: refuse anything but a plain name.
    const tag = checkName('client results tag', options.tag ?? 'default');
    const remoteResults = posix.join(this.autodir, 'results', tag);
    const remoteControl = posix.join(this.autodir, `control.${tag}.js`);
    const testsDirs = [posix.join(this.autodir, 'tests'), posix.join(this.autodir, 'site_tests')];
    const start = [
      `rm -rf ${quote(remoteResults)} && mkdir -p ${quote(remoteResults)}`,
      `cat > ${quote(remoteControl)}`,
      `node ${quote(posix.join(this.autodir, 'bin', 'autotest-client.js'))} start --control ${quote(remoteControl)} --results ${quote(remoteResults)} --args ${quote(options.args ?? '')} ${testsDirs.map((d) => `--tests-dir ${quote(d)}`).join(' ')}`,
    ].join(' && ');
    const started = await this.host.run(start, { stdin: controlJs, timeout: 60 });
    const pid = parsePid(started.stdout);
    const bootId = await this.host.bootId();
    this.#logger.info({ pid, remoteResults }, 'client started');

    const relay = new ClientStatusRelay(options.job, { subdirPrefix: options.subdirPrefix });
    // An interruption stops the device's job at once, not at the next poll: whoever waits for this run (a
    // server test's cleanup) then knows the device is back as it was.
    const stopper = { stopping: undefined as Promise<void> | undefined };
    const stop = () => (stopper.stopping ??= this.#kill(pid));
    options.signal?.addEventListener('abort', stop, { once: true });
    let exitCode: number | undefined;
    let failure: string | undefined;
    try {
      exitCode = await this.#follow(relay, remoteResults, bootId, pid, stop, options);
    } catch (error) {
      failure = reasonOf(error);
    } finally {
      options.signal?.removeEventListener('abort', stop);
    }
    if (failure !== undefined) relay.abortOpenGroups(failure);
    else if (relay.openGroups > 0) relay.abortOpenGroups(`client job ended (exit code ${exitCode}) without closing its tests`);

    await this.#fetchResults(remoteResults, options.resultsDir).catch((error: unknown) => {
      this.#logger.warn({ err: error }, `could not fetch the client results from ${this.host.hostname}`);
    });
    return { status: failure !== undefined ? 'ABORT' : relay.worst, exitCode, install };
  }

  /**
   * Polls the status file until the harness writes its exit code; returns it. A harness that is gone without one
   * (an exception nothing caught after its test ended, the kernel's OOM killer, a SIGKILL) ends the run at once
   * with the last line it wrote to stderr, instead of leaving the server waiting for the run's timeout.
   */
  async #follow(relay: ClientStatusRelay, remoteResults: string, bootId: string, pid: number, stop: () => Promise<void>, options: ClientRunOptions): Promise<number> {
    const deadline = options.timeout ? Date.now() + options.timeout * 1000 : Infinity;
    const statusFile = posix.join(remoteResults, 'status');
    const exitFile = posix.join(remoteResults, '.autotestd', 'exit_code');
    const stderrFile = posix.join(remoteResults, '.autotestd', 'stderr');
    const marker = '\n@@autotest-exit@@';
    const gone = '@@autotest-gone@@';
    let killed = false;
    for (;;) {
      if (options.signal?.aborted && !killed) {
        await stop();
        killed = true;
      }
      if (Date.now() > deadline && !killed) {
        this.#logger.warn({ timeout: options.timeout }, 'client job timed out: stopping it');
        await stop();
        killed = true;
      }
      let output: string;
      try {
        // The exit code is read before the liveness check: a harness that wrote it and then exited is not gone.
        output = (await this.host.run(`tail -c +${relay.offset + 1} ${quote(statusFile)} 2>/dev/null; printf '${marker.replace('\n', '\\n')}'; cat ${quote(exitFile)} 2>/dev/null; kill -0 ${pid} 2>/dev/null || printf '${gone}'`, { timeout: 60, ignoreStatus: true })).stdout;
      } catch (error) {
        await this.#reattach(error, bootId, options.reconnectTimeoutSec ?? 120);
        continue;
      }
      const at = output.lastIndexOf(marker);
      relay.push(output.slice(0, at));
      const tail = output.slice(at + marker.length);
      const exit = tail.replace(gone, '').trim();
      if (!exit && tail.endsWith(gone)) {
        relay.push((await this.host.run(`tail -c +${relay.offset + 1} ${quote(statusFile)} 2>/dev/null`, { timeout: 60, ignoreStatus: true })).stdout);
        const last = (await this.host.run(`tail -n 20 ${quote(stderrFile)} 2>/dev/null`, { timeout: 60, ignoreStatus: true })).stdout;
        const reason = last.split('\n').map((line) => line.trim()).filter((line) => /error|exception|killed|abort/i.test(line)).at(-1);
        throw new ClientRunError('ERR_CLIENT_CRASHED', `the client harness on ${this.host.hostname} ended without an exit code (pid ${pid} is gone): ${reason ? printable(reason.slice(0, 300)) : 'it was killed'}; its stderr is in the client results (.autotestd/stderr), and the device's kernel log says whether the OOM killer took it`);
      }
      if (exit) {
        // The harness may have written its last lines between our read of the status file and of the exit code:
        // the file is final now, so read what is left of it once more.
        relay.push((await this.host.run(`tail -c +${relay.offset + 1} ${quote(statusFile)} 2>/dev/null`, { timeout: 60, ignoreStatus: true })).stdout);
        if (killed && options.signal?.aborted) throw new TestAbort(reasonOf(options.signal.reason));
        if (killed) throw new TestAbort(`client job timed out after ${options.timeout}s`);
        return Number(exit);
      }
      if (killed && Date.now() > deadline + 30_000) throw new TestAbort(`client job timed out after ${options.timeout}s and did not stop`);
      await sleep(options.pollIntervalMs ?? 500);
    }
  }

  /** After a failed poll: wait for the device, and tell a reboot from a dropped connection. */
  async #reattach(error: unknown, bootId: string, timeoutSec: number): Promise<void> {
    this.#logger.warn({ err: error }, `lost contact with ${this.host.hostname}: waiting for it to answer again`);
    if (!(await this.host.waitUp(timeoutSec))) {
      throw new ClientRunError('ERR_CLIENT_VANISHED', `${this.host.hostname} stopped answering and did not come back within ${timeoutSec}s (${reasonOf(error)})`);
    }
    const now = await this.host.bootId();
    if (now !== bootId) {
      throw new ClientRunError('ERR_CLIENT_REBOOTED', `${this.host.hostname} rebooted during the client job (boot id changed), which stopped it`);
    }
    this.#logger.info('device answers again with the same boot: re-attached to the client job');
  }

  async #kill(pid: number): Promise<void> {
    // The harness leads its own process group (started detached): TERM lets it record ABORT, KILL follows.
    const script = `kill -TERM -${pid} 2>/dev/null; i=0; while kill -0 -${pid} 2>/dev/null && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done; kill -KILL -${pid} 2>/dev/null; true`;
    await this.host.run(script, { timeout: 30, ignoreStatus: true }).catch(() => undefined);
  }

  async #fetchResults(remoteResults: string, localDir: string): Promise<void> {
    await mkdir(localDir, { recursive: true });
    await this.host.getFile(`${remoteResults}/`, localDir);
  }
}

/**
 * The harness's pid as the device printed it. It ends up in `kill -TERM -<pid>`, so anything but a plain
 * positive integer (a compromised or broken device printing `1; rm -rf /`, `0` or `-1`, which would signal
 * every process) is refused.
 */
export function parsePid(stdout: string): number {
  const text = stdout.trim();
  const pid = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(pid) || pid < 2 || pid > 4_194_304) {
    throw new ClientRunError('ERR_CLIENT_PID', `the device answered ${JSON.stringify(text.slice(0, 80))} instead of the client harness's pid: reinstall the client or check the device`);
  }
  return pid;
}

/** Raised when a client test was asked to run without a host. */
export function needsHost(name: string): TestError {
  return new TestError(`${name} is a client test: pass the machine to run it on, job.runTest('${name}', { host })`);
}
