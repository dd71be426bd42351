/**
 * Hosts for control files: `hosts.createHost(machine)` turns a machine name (`host`, `user@host:port`)
 * into a connected `SSHHost`.
 */
import { parseMachineName } from './machine-name.js';
import { resolveHostOptions, type SSHHostOptions } from './host-options.js';
import { SSHHost } from './ssh-host.js';

export { SSHHost } from './ssh-host.js';
export type { CommandResult, RunOptions } from './command-result.js';
export type { RebootOptions } from './host-power.js';
export { setDefaultHostOptions, getDefaultHostOptions, type SSHHostOptions } from './host-options.js';
export { parseMachineName, type MachineName } from './machine-name.js';
export * from './host-errors.js';

/**
 * Connects to a machine once (checking its host key and the login) and returns the host.
 * User and port in the machine name win over `options.user` and `options.port`.
 * @example await using host = await createHost('root@198.18.1.2:22', { sshKey: '/path/id_ed25519' });
 */
export async function createHost(machine: string, options: SSHHostOptions = {}): Promise<SSHHost> {
  const name = parseMachineName(machine);
  const resolved = resolveHostOptions(options);
  const host = new SSHHost(
    { host: name.host, port: name.port ?? resolved.port, user: name.user ?? resolved.user },
    resolved,
  );
  try {
    await host.connect();
  } catch (error) {
    await host.close();
    throw error;
  }
  return host;
}

/** What control files receive as `hosts`. */
export const hosts = { createHost } as const;
