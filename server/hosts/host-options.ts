/**
 * Options of a host connection, and the process-wide defaults that autoserv's command line sets once
 * (`--ssh-key`, `--ssh-user`, …) so every `hosts.createHost(machine)` in a control file picks them up.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../../lib/logging.js';

export interface SSHHostOptions {
  /** Private key file(s) to log in with. @default the user's usual keys: ~/.ssh/id_ed25519, id_ecdsa, id_rsa (and ssh-agent) */
  readonly sshKey?: string | readonly string[];
  /** User to log in as, when the machine name has no `user@`. @default 'root' */
  readonly user?: string;
  /** Port, when the machine name has no `:port`. @default 22 */
  readonly port?: number;
  /** known_hosts file to check host keys against and to add accepted keys to. @default ~/.ssh/known_hosts (also reads /etc/ssh/ssh_known_hosts) */
  readonly knownHostsFile?: string;
  /** Add the key of a host that is in no known_hosts file instead of refusing it. A changed key is always refused. @default false */
  readonly acceptNewHostKeys?: boolean;
  /** Seconds to wait for the TCP connection and SSH handshake. @default 30 */
  readonly connectTimeoutSec?: number;
  /** Seconds between SSH keepalives; after 3 unanswered ones the connection is declared dropped. @default 15 */
  readonly keepaliveSec?: number;
  /**
   * Experimental: run commands without stdin through one long-lived shell per connection (docs/hosts.md); `'sh'`
   * uses the POSIX-sh driver even where perl is available. @default false
   */
  readonly persistentShell?: boolean | 'sh';
  readonly logger?: Logger;
}

export interface ResolvedHostOptions {
  readonly sshKeys: readonly string[] | undefined;
  readonly user: string;
  readonly port: number;
  readonly knownHostsFile: string;
  readonly readKnownHostsFiles: readonly string[];
  readonly acceptNewHostKeys: boolean;
  readonly connectTimeoutSec: number;
  readonly keepaliveSec: number;
  readonly persistentShell: boolean | 'sh';
  readonly logger: Logger;
}

let defaults: SSHHostOptions = {};

/** Sets options every later `createHost` starts from (the caller's options still win). Returns the previous defaults. */
export function setDefaultHostOptions(options: SSHHostOptions): SSHHostOptions {
  const previous = defaults;
  defaults = { ...options };
  return previous;
}

export function getDefaultHostOptions(): SSHHostOptions {
  return defaults;
}

/** Merges the caller's options over the process defaults and fills in the documented defaults. */
export function resolveHostOptions(options: SSHHostOptions = {}): ResolvedHostOptions {
  const merged = { ...defaults, ...options };
  const sshKey = merged.sshKey;
  const knownHostsFile = merged.knownHostsFile ?? join(homedir(), '.ssh', 'known_hosts');
  return {
    sshKeys: sshKey === undefined ? undefined : typeof sshKey === 'string' ? [sshKey] : [...sshKey],
    user: merged.user ?? 'root',
    port: merged.port ?? 22,
    knownHostsFile,
    // An explicit file is the whole truth (the lab relies on that); the user's file is read with the system one.
    readKnownHostsFiles: merged.knownHostsFile
      ? [knownHostsFile]
      : [knownHostsFile, '/etc/ssh/ssh_known_hosts'],
    acceptNewHostKeys: merged.acceptNewHostKeys ?? false,
    connectTimeoutSec: merged.connectTimeoutSec ?? 30,
    keepaliveSec: merged.keepaliveSec ?? 15,
    persistentShell: merged.persistentShell ?? false,
    logger: merged.logger ?? silentLogger,
  };
}
