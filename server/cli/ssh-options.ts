/** The SSH options autoserv and run-remote share, and turning them into the hosts' process-wide defaults. */
import { Option, type Command } from 'commander';
import { setDefaultHostOptions } from '../hosts/index.js';

export interface SshFlags {
  sshKey: string[];
  sshUser: string;
  sshPort: number;
  knownHosts?: string;
  acceptNewHostKeys?: boolean;
}

/** Collects a repeatable option's values. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addSshOptions(command: Command): Command {
  return command
    .option('--ssh-key <file>', 'private key for the machines (repeatable)', collect, [])
    .option('--ssh-user <user>', 'SSH user when a machine name has none', 'root')
    .addOption(new Option('--ssh-port <port>', 'SSH port when a machine name has none').default(22).argParser(Number))
    .option('--known-hosts <file>', 'known_hosts file to check host keys against')
    .option('--accept-new-host-keys', 'trust and remember the key of a host seen for the first time (changed keys are always refused)');
}

export function applySshOptions(flags: SshFlags): void {
  setDefaultHostOptions({
    ...(flags.sshKey.length ? { sshKey: flags.sshKey } : {}),
    user: flags.sshUser,
    port: flags.sshPort,
    ...(flags.knownHosts ? { knownHostsFile: flags.knownHosts } : {}),
    acceptNewHostKeys: Boolean(flags.acceptNewHostKeys),
  });
}
