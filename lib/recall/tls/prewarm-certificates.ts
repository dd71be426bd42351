/**
 * First contact at no cost in playback: every HTTPS host of the archive is known before the first client comes, so
 * its certificate and TLS context are made while the server starts (each ~1-2 ms, bench/README.md "mint"), not
 * during that host's first handshake. Record mode has no archive to read: a new host is minted on demand.
 */
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { RecordedExchange } from '../archive/archive-types.js';
import { splitHost } from '../http/http-headers.js';

/** Contexts made at once: minting signs on the thread pool (4 threads), so more in flight gains nothing. */
const IN_FLIGHT = 4;
/** A host's leaf and context hold ~50 KB: past this many, the rest are minted at first contact, as in record mode. */
export const PREWARM_MAX_HOSTS = 1000;

interface ContextSource {
  secureContextFor(servername: string): Promise<SecureContext>;
}

/** The HTTPS host names of the archive an exchanger replays (`PlaybackHTTPClient.archive`), if it has one. */
export function archiveHostNames(exchanger: unknown): string[] {
  const archive = (exchanger as { archive?: { exchanges?: readonly RecordedExchange[] } } | undefined)
    ?.archive;
  const names = new Set<string>();
  for (const exchange of archive?.exchanges ?? []) {
    if (exchange.request.scheme !== 'https') continue;
    const hostname = splitHost(exchange.request.host, 443)?.hostname;
    if (hostname) names.add(hostname.toLowerCase());
  }
  return [...names];
}

/**
 * Makes the TLS context of every HTTPS host in the exchanger's archive. A name that cannot have a certificate is
 * logged and skipped: a client asking for it gets the same refusal it always did.
 */
export async function prewarmCertificates(
  source: ContextSource,
  exchanger: unknown,
  logger: Logger,
): Promise<number> {
  const names = archiveHostNames(exchanger).slice(0, PREWARM_MAX_HOSTS);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const name = names[next++]!;
      await source.secureContextFor(name).catch((error: unknown) => {
        logger.debug({ err: error, name }, 'no certificate ahead of time for an archive host');
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, names.length) }, worker));
  if (names.length > 0) logger.debug({ hosts: names.length }, 'certificates ready for the archive hosts');
  return names.length;
}
