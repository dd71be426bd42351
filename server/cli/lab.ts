/**
 * lab up [--devices N] [--servers S] [--name NAME] | lab run [--server N] [--name NAME] -- COMMAND… |
 * lab status [--name NAME] [--json] | lab inventory [--name NAME] | lab down [--name NAME]
 *
 * Builds, uses and removes the virtual lab (docs/lab.md). Needs root. Exit codes: 0 done; 1 failed;
 * `lab run` exits with the command's own status.
 */
import { Command, Option } from 'commander';
import { isAutotestError, reasonOf } from '../../lib/errors.js';
import { Lab, type LabStatus } from '../lab/lab.js';
import { labInventory } from '../lab/lab-inventory.js';
import { assertRoot } from '../lab/lab-errors.js';

const nameOption = (): Option =>
  new Option('-n, --name <name>', 'lab name (1-8 lower-case letters and digits)').default('lab');
const stateOption = (): Option =>
  new Option('--state-root <dir>', "folder of labs' state").default('/var/lib/autotest-lab');

function printStatus(status: LabStatus): void {
  const several = status.servers.length > 1;
  const lines = [
    `lab ${status.name}`,
    ...status.servers.map(
      (s) =>
        `  ${(several ? s.name : 'server').padEnd(10)}  ${s.namespace}  ${s.address} (devices' gateway), ${s.managementAddress} (management)` +
        (several ? `, ${s.upstreamAddress} (from other servers)` : ''),
    ),
    ...status.devices.map(
      (d) =>
        `  ${d.name.padEnd(10)}  ${d.namespace}  ${d.address}  hostname ${d.hostname}` +
        (several ? `  gateway server${d.server} (${d.gateway})` : ''),
    ),
    `  internet    ${status.internet.namespace}  DNS ${status.internet.dnsAddress}`,
    `  sites       ${status.internet.sites.join(' ')}`,
    `  ssh key     ${status.sshKey}`,
    `  known_hosts ${status.knownHosts}`,
    `  public CA   ${status.publicCaPath}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const program = new Command('lab')
    .description('A virtual lab of devices in network namespaces, for running autotest against.')
    .showHelpAfterError()
    // Every subcommand creates, enters or reads root-only namespaces and keys; help still works without root.
    .hook('preAction', () => assertRoot());

  program
    .command('up')
    .description('build a lab: server, devices with sshd, and an internet with DNS and HTTP(S) sites')
    .addOption(new Option('-d, --devices <n>', 'number of devices').default(1).argParser(Number))
    .addOption(
      new Option(
        '-s, --servers <n>',
        'number of server namespaces, each the gateway of its share of the devices',
      )
        .default(1)
        .argParser(Number),
    )
    .addOption(nameOption())
    .addOption(stateOption())
    .option('--json', 'print the status as JSON')
    .action(
      async (opts: { devices: number; servers: number; name: string; stateRoot: string; json?: boolean }) => {
        const lab = await Lab.up({
          name: opts.name,
          devices: opts.devices,
          servers: opts.servers,
          stateRoot: opts.stateRoot,
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(lab.status(), null, 2)}\n`);
        else printStatus(lab.status());
      },
    );

  program
    .command('status')
    .description('show a lab: namespaces, addresses, SSH key, DNS, sites and CA')
    .addOption(nameOption())
    .addOption(stateOption())
    .option('--json', 'print JSON for scripts')
    .action(async (opts: { name: string; stateRoot: string; json?: boolean }) => {
      const status = (await Lab.load(opts.name, { stateRoot: opts.stateRoot })).status();
      if (opts.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else printStatus(status);
    });

  program
    .command('run')
    .description(
      'run a command in the server namespace with LAB_NAME, LAB_DEVICES, LAB_SSH_KEY and LAB_KNOWN_HOSTS set',
    )
    .argument('<command...>', 'the command, after --')
    .addOption(new Option('--server <n>', "run in server N's namespace").default(1).argParser(Number))
    .addOption(nameOption())
    .addOption(stateOption())
    .action(async (command: string[], opts: { name: string; stateRoot: string; server: number }) => {
      const lab = await Lab.load(opts.name, { stateRoot: opts.stateRoot });
      const result = await lab.run(command, { stdio: 'inherit', server: opts.server });
      process.exitCode = result.exitCode;
    });

  program
    .command('inventory')
    .description(
      "print an inventory (YAML) of the lab's devices for atest and the drones: one drone per server",
    )
    .addOption(nameOption())
    .addOption(stateOption())
    .action(async (opts: { name: string; stateRoot: string }) => {
      process.stdout.write(labInventory((await Lab.load(opts.name, { stateRoot: opts.stateRoot })).status()));
    });

  program
    .command('down')
    .description('remove a lab and everything it made, even after a crashed `lab up`')
    .addOption(nameOption())
    .addOption(stateOption())
    .action(async (opts: { name: string; stateRoot: string }) => {
      await Lab.downByName(opts.name, { stateRoot: opts.stateRoot });
    });

  await program.parseAsync();
}

main().catch((error: unknown) => {
  const code = isAutotestError(error) ? ` [${error.code}]` : '';
  process.stderr.write(`lab: ${reasonOf(error)}${code}\n`);
  process.exitCode = 1;
});
