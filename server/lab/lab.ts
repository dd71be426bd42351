/**
 * The virtual lab: a server namespace (the devices' gateway, where server jobs run), N device namespaces each
 * running a real sshd, and an "internet" namespace with an authoritative DNS server and origin sites signed by
 * the lab's own public CA. See docs/lab.md.
 * @example
 * const lab = await Lab.up({ name: 'lab', devices: 2 });
 * try { await lab.run(['curl', '-s', 'https://static.lab.test/']); } finally { await lab.down(); }
 */
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { silentLogger, type Logger } from '../../lib/logging.js';
import { createLabCertificates } from './lab-ca.js';
import { prepareDevice, startDevice } from './lab-device.js';
import { assertRoot, LabError } from './lab-errors.js';
import { startInternet, waitInternetReady } from './lab-internet.js';
import {
  buildDevice,
  buildInternet,
  buildServer,
  createNamespaces,
  listLabNamespaces,
  subnetInUse,
} from './lab-network.js';
import { checkLabName, namespacePrefix, planLab, type LabPlan } from './lab-plan.js';
import { createLoginKey, waitForSshd, writeKnownHosts } from './lab-ssh.js';
import {
  claimSlot,
  DEFAULT_STATE_ROOT,
  labDir,
  newState,
  readState,
  writeState,
  type LabState,
} from './lab-state.js';
import { teardownLab } from './lab-teardown.js';
import { pathWithBins } from '../bin-path.js';
import {
  configureServerNamespace,
  labEnvironment,
  labStatus,
  serverEtcFolder,
  type LabStatus,
} from './lab-status.js';

export type { LabStatus } from './lab-status.js';

export interface LabUpOptions {
  /** 1 to 8 lower-case letters and digits. @default 'lab' */
  readonly name?: string;
  /** Number of devices. @default 1 */
  readonly devices?: number;
  /** Number of server namespaces, each the gateway of its share of the devices. @default 1 */
  readonly servers?: number;
  /** Folder holding labs' state. @default /var/lib/autotest-lab */
  readonly stateRoot?: string;
  readonly logger?: Logger;
}

export interface LabRunOptions {
  /** 'inherit' for the CLI; 'pipe' (default) captures output. */
  readonly stdio?: 'inherit' | 'pipe';
  readonly env?: Readonly<Record<string, string>>;
  /** Which server namespace runs the command (1-based). @default 1 */
  readonly server?: number;
}

export interface LabRunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class Lab {
  private downed: Promise<void> | undefined;

  private constructor(
    private readonly plan: LabPlan,
    private readonly stateRoot: string,
    private readonly logger: Logger,
  ) {}

  /** Builds a lab; on any failure removes what it built and throws. Needs root. */
  static async up(options: LabUpOptions = {}): Promise<Lab> {
    assertRoot();
    const name = options.name ?? 'lab';
    const stateRoot = options.stateRoot ?? DEFAULT_STATE_ROOT;
    const logger = (options.logger ?? silentLogger).child({ component: 'lab', lab: name });
    checkLabName(name);
    if ((await readState(stateRoot, name)) || (await listLabNamespaces(namespacePrefix(name))).length) {
      throw new LabError(
        'ERR_LAB_EXISTS',
        `lab "${name}" already exists (state or namespaces ${namespacePrefix(name)}*); run \`lab down --name ${name}\` first or pick another --name`,
      );
    }
    planLab(name, 1, options.devices ?? 1, options.servers ?? 1); // checks the counts before anything is created
    await mkdir(labDir(stateRoot, name), { recursive: true, mode: 0o755 });
    // sshd's StrictModes: every folder above authorized_keys must be root's and not writable by others.
    await chmod(stateRoot, 0o755);
    await chmod(labDir(stateRoot, name), 0o755);
    const slot = await claimSlot(stateRoot, name, (candidate) => subnetInUse(planLab(name, candidate, 0)));
    const plan = planLab(name, slot, options.devices ?? 1, options.servers ?? 1);
    const state = newState(stateRoot, name, slot, plan.devices.length, plan.servers.length);
    const lab = new Lab(plan, stateRoot, logger);
    try {
      await writeState(stateRoot, state);
      await lab.build(state);
    } catch (error) {
      logger.error({ err: error }, 'lab up failed; removing what was built');
      await teardownLab({ stateRoot, name, logger });
      throw error;
    }
    return lab;
  }

  /** The lab named `name`, from its state file. Throws `ERR_LAB_NOT_FOUND` when it is not up. */
  static async load(name = 'lab', options: { stateRoot?: string; logger?: Logger } = {}): Promise<Lab> {
    const stateRoot = options.stateRoot ?? DEFAULT_STATE_ROOT;
    const state = await readState(stateRoot, name);
    if (!state)
      throw new LabError(
        'ERR_LAB_NOT_FOUND',
        `no lab named "${name}" under ${stateRoot}; start one with \`lab up --name ${name}\``,
      );
    if (!state.complete)
      throw new LabError(
        'ERR_LAB_NOT_FOUND',
        `lab "${name}" did not finish starting; run \`lab down --name ${name}\` and \`lab up\` again`,
      );
    return new Lab(
      planLab(name, state.slot, state.deviceCount, state.serverCount ?? 1),
      stateRoot,
      (options.logger ?? silentLogger).child({ component: 'lab', lab: name }),
    );
  }

  /** Removes a lab by name, whatever state it is in; idempotent. Throws `ERR_LAB_TEARDOWN` listing what remains. */
  static async downByName(
    name = 'lab',
    options: { stateRoot?: string; logger?: Logger } = {},
  ): Promise<void> {
    assertRoot();
    checkLabName(name);
    const problems = await teardownLab({
      stateRoot: options.stateRoot ?? DEFAULT_STATE_ROOT,
      name,
      logger: options.logger ?? silentLogger,
    });
    if (problems.length)
      throw new LabError(
        'ERR_LAB_TEARDOWN',
        `lab "${name}" was not entirely removed: ${problems.join('; ')}`,
      );
  }

  get name(): string {
    return this.plan.name;
  }

  status(): LabStatus {
    return labStatus(this.plan, labDir(this.stateRoot, this.plan.name));
  }

  /** Environment a command run in the lab gets: LAB_NAME, LAB_DEVICES, LAB_SSH_KEY, LAB_KNOWN_HOSTS, … */
  environment(server = 1): Record<string, string> {
    return labEnvironment(this.status(), server);
  }

  /** Runs a command in a server namespace (server 1 unless told) with the lab's environment. Never throws for a non-zero exit. */
  async run(command: readonly string[], options: LabRunOptions = {}): Promise<LabRunResult> {
    if (command.length === 0)
      throw new LabError('ERR_LAB_OPTIONS', 'lab run needs a command, e.g. `lab run -- ping -c1 198.18.1.2`');
    const index = options.server ?? 1;
    const server = this.plan.servers[index - 1];
    if (!server || !Number.isInteger(index))
      throw new LabError(
        'ERR_LAB_OPTIONS',
        `lab ${this.plan.name} has servers 1 to ${this.plan.servers.length}, got --server ${index}`,
      );
    const result = await execa('ip', ['netns', 'exec', server.namespace, ...command], {
      // This checkout's commands (run-remote, autoserv, …) come first on PATH inside the lab.
      env: { ...this.environment(index), PATH: pathWithBins(), ...options.env },
      stdio: options.stdio ?? 'pipe',
      stripFinalNewline: false,
      reject: false,
    });
    return {
      exitCode: result.exitCode ?? 128,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
    };
  }

  /** Removes the lab; idempotent (later calls wait for the first). */
  down(): Promise<void> {
    this.downed ??= Lab.downByName(this.plan.name, { stateRoot: this.stateRoot, logger: this.logger });
    return this.downed;
  }

  async close(): Promise<void> {
    await this.down();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }

  private async build(state: LabState): Promise<void> {
    const { plan, stateRoot } = this;
    const dir = labDir(stateRoot, plan.name);
    const save = (): Promise<void> => writeState(stateRoot, state);
    this.logger.info(
      { slot: plan.slot, devices: plan.devices.length, servers: plan.servers.length },
      'building lab',
    );
    await createNamespaces(plan, async (namespace) => {
      state.namespaces.push(namespace);
      await save();
    });
    for (const server of plan.servers) await buildServer(server);
    await buildInternet(plan);
    for (let index = 0; index < plan.devices.length; index += 1) await buildDevice(plan, index);

    await mkdir(join(dir, 'ca'), { recursive: true });
    const certificates = await createLabCertificates(
      join(dir, 'ca'),
      plan.name,
      plan.sites.map((s) => s.name),
    );
    await createLoginKey(dir, plan.name);
    state.extraPaths.push(...plan.servers.map((s) => serverEtcFolder(s.namespace)));
    await save();
    for (const server of plan.servers)
      await configureServerNamespace(plan, server.namespace, certificates.caCertPath);

    state.pids.internet = await startInternet(plan, dir, certificates);
    await save();
    await waitInternetReady(dir, state.pids.internet);

    const hostKeys: { address: string; hostKeyPublic: string }[] = [];
    for (let index = 0; index < plan.devices.length; index += 1) {
      const device = plan.devices[index]!;
      const files = await prepareDevice(plan, index, dir, certificates.caCertPath);
      state.pids[device.name] = await startDevice(plan, index, files.dir);
      await save();
      hostKeys.push({ address: device.address, hostKeyPublic: files.hostKeyPublic });
    }
    await writeKnownHosts(dir, hostKeys);
    await waitForSshd(
      plan.devices.map((d) => ({ name: d.name, address: d.address, logPath: join(dir, d.name, 'init.log') })),
    );
    state.complete = true;
    await save();
    this.logger.info('lab up');
  }
}
