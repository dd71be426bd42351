/**
 * One SSH connection to one host, shared by every command and transfer, and opened again when it drops
 * (a reboot, a killed sshd, a network blip). Host keys are checked against known_hosts while connecting.
 */
import ssh2 from 'ssh2';
import type { Client as ClientType } from 'ssh2';
import type { Logger } from '../../lib/logging.js';
import {
  HostAuthError,
  HostKeyMismatchError,
  HostKeyUnknownError,
  HostUnreachableError,
} from './host-errors.js';
import type { ResolvedHostOptions } from './host-options.js';
import { addKnownHost, fingerprintOf, KnownHosts, keyTypeOf } from './known-hosts.js';
import { knownHostsName } from './machine-name.js';
import { loadAuthMethods } from './ssh-keys.js';

const { Client } = ssh2;

/** Host key algorithms ssh2 speaks, in its default preference order. */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Known key types first, so a host with several keys shows the one we can check (as OpenSSH does). */
function hostKeyOrder(knownTypes: readonly string[]): string[] {
  const preferred = knownTypes.flatMap((type) =>
    type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type],
  );
  return [...new Set([...preferred.filter((a) => HOST_KEY_ALGORITHMS.includes(a)), ...HOST_KEY_ALGORITHMS])];
}

export interface ConnectionTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** How messages name the host: `user@host:port`. */
  readonly hostname: string;
}

export class SSHConnection {
  private client: ClientType | undefined;
  private connecting: Promise<ClientType> | undefined;
  private closed = false;
  /** How many times a connection was established; a number above 1 means it was re-established. */
  connectCount = 0;
  private readonly logger: Logger;

  constructor(
    private readonly target: ConnectionTarget,
    private readonly options: ResolvedHostOptions,
  ) {
    this.logger = options.logger.child({ component: 'ssh', host: target.hostname });
  }

  /** The live client, connecting first when there is none. */
  async get(): Promise<ClientType> {
    if (this.client) return this.client;
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Forgets a client that failed, so the next `get()` connects again. */
  drop(client: ClientType): void {
    if (this.client === client) this.client = undefined;
    client.destroy();
  }

  /** Ends the connection; idempotent. */
  close(): void {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    client?.end();
  }

  private async connect(): Promise<ClientType> {
    const { host, port, user, hostname } = this.target;
    const knownHosts = await KnownHosts.load(this.options.readKnownHostsFiles);
    const authHandler = await loadAuthMethods(user, this.options.sshKeys);
    if (authHandler.length === 0) {
      throw new HostAuthError(
        hostname,
        'no private key found (~/.ssh/id_ed25519, id_ecdsa, id_rsa) and no ssh-agent; pass --ssh-key FILE',
      );
    }
    let keyError: Error | undefined;
    let newKey: Buffer | undefined;
    const hostVerifier = (key: Buffer): boolean => {
      const verdict = knownHosts.check(host, port, key);
      const fingerprint = fingerprintOf(key);
      const type = keyTypeOf(key);
      if (verdict.kind === 'match') return true;
      if (verdict.kind === 'unknown' && this.options.acceptNewHostKeys) {
        newKey = key;
        return true;
      }
      if (verdict.kind === 'unknown') {
        keyError = new HostKeyUnknownError(
          hostname,
          `Host key of ${hostname} (${type} ${fingerprint}) is not in ${this.options.readKnownHostsFiles.join(' or ')}; ` +
            `add it (ssh-keyscan -p ${port} ${host} >> ${this.options.knownHostsFile}) or pass acceptNewHostKeys: true`,
          fingerprint,
        );
      } else {
        const what = verdict.kind === 'revoked' ? 'is marked @revoked' : 'differs from the key recorded';
        keyError = new HostKeyMismatchError(
          hostname,
          `HOST KEY MISMATCH: the ${type} key ${hostname} presented (${fingerprint}) ${what} at ${verdict.file}:${verdict.line}; ` +
            `refusing to connect. If the host was reinstalled, remove the old key (ssh-keygen -R '${knownHostsName(host, port)}' -f ${verdict.file}) and connect again`,
          fingerprint,
        );
      }
      return false;
    };

    const client = new Client();
    // Every running command listens for the connection's end: many may run at once.
    client.setMaxListeners(0);
    this.logger.debug({ port }, 'connecting');
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error & { level?: string }): void => {
        client.removeListener('ready', onReady);
        client.destroy();
        if (keyError) reject(keyError);
        else if (error.level === 'client-authentication') {
          reject(
            new HostAuthError(
              hostname,
              `refused every key offered (${this.options.sshKeys?.join(', ') ?? 'the usual ~/.ssh keys and ssh-agent'}); check --ssh-key and the device's authorized_keys`,
              { cause: error },
            ),
          );
        } else if (error.level === 'client-timeout') {
          reject(
            new HostUnreachableError(
              hostname,
              `no SSH handshake within ${this.options.connectTimeoutSec} s; check that the host is up and sshd listens on port ${port}`,
              { cause: error },
            ),
          );
        } else {
          reject(
            new HostUnreachableError(
              hostname,
              `cannot connect over SSH (${error.message}); check that the host is up and sshd listens on port ${port}`,
              { cause: error },
            ),
          );
        }
      };
      const onReady = (): void => {
        client.removeListener('error', onError);
        resolve();
      };
      client.once('error', onError);
      client.once('ready', onReady);
      client.connect({
        host,
        port,
        username: user,
        authHandler,
        hostVerifier,
        readyTimeout: this.options.connectTimeoutSec * 1000,
        keepaliveInterval: this.options.keepaliveSec * 1000,
        keepaliveCountMax: 3,
        algorithms: { serverHostKey: hostKeyOrder(knownHosts.keyTypesFor(host, port)) as never },
      });
      // ssh2 leaves Nagle's algorithm on: each channel open then waits ~40 ms for a delayed ACK (bench/: 69 → 22 ms
      // per command). It offers no option, so reach the socket it has just made.
      (client as unknown as { _sock?: { setNoDelay?(on: boolean): void } })._sock?.setNoDelay?.(true);
    });
    if (newKey) {
      await addKnownHost(this.options.knownHostsFile, host, port, newKey);
      this.logger.info(
        { fingerprint: fingerprintOf(newKey), file: this.options.knownHostsFile },
        'added new host key',
      );
    }
    // Errors after the handshake surface as a dropped connection to whatever runs on it; here we only forget it.
    client.on('error', (error) => this.logger.debug({ err: error }, 'connection error'));
    client.once('close', () => {
      if (this.client === client) this.client = undefined;
      this.logger.debug('connection closed');
    });
    if (this.closed) {
      client.end();
      throw new HostUnreachableError(hostname, 'the host was closed while connecting');
    }
    this.connectCount += 1;
    this.client = client;
    this.logger.debug({ connectCount: this.connectCount }, 'connected');
    return client;
  }
}
