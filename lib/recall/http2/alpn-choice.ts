/**
 * Which application protocol (ALPN) the HTTPS interceptor speaks with a client, per host. Node asks for it
 * synchronously during the handshake, so a `ProtocolChoice` is first given the host name (`prepare`, which may ask
 * the real server) and then asked synchronously (`chosen`). Record mode: `UpstreamProtocolProbe` (what the real
 * server chose, written to the archive's `log._recall.alpn`). Playback: `ArchivedProtocols` (from the archive, no
 * network; `http/1.1` for hosts the archive does not name).
 */
import type { Archive } from '../archive/archive.js';
import type { AlpnProtocol } from '../archive/archive-types.js';

export type { AlpnProtocol } from '../archive/archive-types.js';

export interface ProtocolChoice {
  /** Called before the handshake with the SNI name (or the connection's mapped name); may take its time. */
  prepare(host: string): Promise<void>;
  /** The protocol to speak with clients of `host`; called synchronously during the handshake. */
  chosen(host: string): AlpnProtocol;
}

/** HTTP/1.1 for every host: the interceptor's behaviour before HTTP/2 (and the default without a choice). */
export const HTTP1_ONLY: ProtocolChoice = {
  prepare: () => Promise.resolve(),
  chosen: () => 'http/1.1',
};

/** Playback: the protocol recorded for each host in the archive; `http/1.1` for hosts recorded without one. */
export class ArchivedProtocols implements ProtocolChoice {
  readonly #archive: Archive;

  constructor(archive: Archive) {
    this.#archive = archive;
  }

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  chosen(host: string): AlpnProtocol {
    return this.#archive.recall.alpn?.[host.toLowerCase()] ?? 'http/1.1';
  }
}

/**
 * The protocol to answer a client that offered `offered`: `wanted` when offered, else HTTP/1.1, else h2 (a
 * client that speaks only h2 gets it even for an HTTP/1.1 host); undefined (handshake refused) for neither.
 */
export function answerAlpn(wanted: AlpnProtocol, offered: readonly string[]): AlpnProtocol | undefined {
  if (offered.includes(wanted)) return wanted;
  if (offered.includes('http/1.1')) return 'http/1.1';
  if (offered.includes('h2')) return 'h2';
  return undefined;
}
