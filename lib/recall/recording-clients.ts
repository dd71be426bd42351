/**
 * The record half of Recall, put together the one way it should be: DNS answers and complete HTTP exchanges go
 * into `archive`, and HTML pages get the deterministic script seeded with the archive's own start time and random
 * seed, so every playback of that archive gives pages the same clock and the same random numbers.
 */
import type { Logger } from 'pino';
import type { Archive } from './archive/archive.js';
import { ArchivingDNSClient } from './dns/archiving-dns-client.js';
import { ArchivingHTTPClient } from './http/archiving-http-client.js';
import { DeterministicScriptInjector } from './determinism/deterministic-script-injector.js';
import type { DnsResolver } from './dns/dns-types.js';
import type { HttpExchanger } from './http/http-exchanger.js';
import type { ScrubOptions } from './archive/scrub.js';

export interface RecordingClientsOptions extends ScrubOptions {
  logger?: Logger;
}

/** Wraps the live upstream clients (`DNSClient`, `HTTPClient`) so that what they answer is recorded into `archive`. */
export function recordingClients(
  archive: Archive,
  upstream: { dns: DnsResolver; http: HttpExchanger },
  options: RecordingClientsOptions = {},
): { dns: ArchivingDNSClient; http: ArchivingHTTPClient } {
  const { logger } = options;
  const state = {
    startTime: Date.parse(archive.recall.startedDateTime),
    randomSeed: archive.recall.randomSeed,
  };
  return {
    dns: new ArchivingDNSClient(upstream.dns, {
      sink: archive.recall.dns,
      onAnswer: (answer) => archive.journal?.appendDnsAnswer(answer),
      logger,
    }),
    http: new ArchivingHTTPClient(new DeterministicScriptInjector(upstream.http, { state, logger }), {
      ...options,
      archive,
    }),
  };
}
