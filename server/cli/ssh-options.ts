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

/**
 * Makes the flags the hosts' defaults. Inside `lab run`, LAB_SSH_KEY and LAB_KNOWN_HOSTS (set by the lab)
 * stand in for --ssh-key and --known-hosts when those are not given.
 */
export function applySshOptions(flags: SshFlags, env: NodeJS.ProcessEnv = process.env): void {
  const sshKey = flags.sshKey.length ? flags.sshKey : env.LAB_SSH_KEY ? [env.LAB_SSH_KEY] : [];
  const knownHosts = flags.knownHosts ?? (env.LAB_KNOWN_HOSTS || undefined);
  setDefaultHostOptions({
    ...(sshKey.length ? { sshKey } : {}),
    user: flags.sshUser,
    port: flags.sshPort,
    ...(knownHosts ? { knownHostsFile: knownHosts } : {}),
    acceptNewHostKeys: Boolean(flags.acceptNewHostKeys),
  });
}
