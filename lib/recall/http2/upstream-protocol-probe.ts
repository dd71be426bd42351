/**
 * Record mode's `ProtocolChoice`: before a client's handshake completes, asks the real server of that host which
 * protocol it picks from `h2, http/1.1` (one TLS handshake per host, remembered), writes the answer to the
 * archive's `log._recall.alpn` and speaks the same with the client. A server that cannot be reached gets
 * `http/1.1` and nothing recorded: the request itself then fails with the usual 502.
 */
import tls from 'node:tls';
import { lookup as systemLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import type { Archive } from '../archive/archive.js';
import { refusedUpstreamKind } from '../http/upstream-policy.js';
import type { AlpnProtocol, ProtocolChoice } from './alpn-choice.js';

export interface UpstreamProtocolProbeOptions {
  /** Where the probe writes what it learns (`log._recall.alpn`). */
  archive: Archive;
  /** PEM certificates trusted in addition to the system roots, as for `HTTPClient`. */
  extraCAs?: string[];
  /** Resolves upstream names. @default the operating system's resolver */
  lookup?: LookupFunction;
  /** Probe loopback and this machine's own addresses too (tests with local origins). @default false */
  allowLocalUpstreams?: boolean;
  /** The port to probe for a host. @default 443 */
  portOf?: (host: string) => number;
  /** Longest wait for the real server's handshake, ms. @default 5000 */
  timeoutMs?: number;
  logger?: Logger;
}

export class UpstreamProtocolProbe implements ProtocolChoice {
  readonly #options: UpstreamProtocolProbeOptions;
  readonly #pending = new Map<string, Promise<void>>();
  readonly #logger: Logger;

  constructor(options: UpstreamProtocolProbeOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'alpn-probe' });
  }

  chosen(host: string): AlpnProtocol {
    return this.#options.archive.recall.alpn?.[host.toLowerCase()] ?? 'http/1.1';
  }

  prepare(host: string): Promise<void> {
    const name = host.toLowerCase();
    if (this.#options.archive.recall.alpn?.[name]) return Promise.resolve();
    let pending = this.#pending.get(name);
    if (!pending) {
      pending = this.#probe(name).then(
        (protocol) => {
          const recall = this.#options.archive.recall;
          recall.alpn = { ...recall.alpn, [name]: protocol };
          void this.#options.archive.journal?.appendAlpn(name, protocol); // a killed recording keeps it too
        },
        (error: unknown) => {
          this.#logger.warn({ err: error, host: name }, 'cannot learn the protocol of the real server: http/1.1');
        },
      );
      // Forgotten once settled: a host that was down is asked again on its next connection.
      void pending.finally(() => this.#pending.delete(name));
      this.#pending.set(name, pending);
    }
    return pending;
  }

  #probe(host: string): Promise<AlpnProtocol> {
    const { extraCAs, timeoutMs = 5000 } = this.#options;
    const lookup = this.#options.lookup ?? systemLookup;
    const allowLocal = this.#options.allowLocalUpstreams ?? false;
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host,
        port: this.#options.portOf?.(host) ?? 443,
        servername: host,
        ALPNProtocols: ['h2', 'http/1.1'],
        ...(extraCAs?.length ? { ca: [...tls.rootCertificates, ...extraCAs] } : {}),
        lookup,
        timeout: timeoutMs,
      });
      socket.once('connect', () => {
        const refused = allowLocal ? undefined : refusedUpstreamKind(socket.remoteAddress ?? '');
        if (refused) socket.destroy(new Error(`${host} is ${refused}: not probed (allowLocalUpstreams is off)`));
      });
      socket.once('secureConnect', () => {
        resolve(socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1');
        socket.end();
      });
      socket.once('timeout', () => socket.destroy(new Error(`no TLS handshake from ${host} in ${timeoutMs} ms`)));
      socket.once('error', reject);
    });
  }
}
