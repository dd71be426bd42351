/**
 * Recall, the record-and-replay network engine: import from here, not from the files behind it.
 *
 * HTTP half: `Archive` (HAR 1.2 with `_recall` fields), `HTTPClient` (live upstream), `ArchivingHTTPClient`
 * (record), `PlaybackHTTPClient` (replay, hermetic), `HTTPServer` / `HTTPSServer` (transparent interceptors),
 * `RequestMatcher`, scrubbing. All HTTP modes implement `HttpExchanger`.
 * DNS and TLS half: `CertificateAuthority`, `DNSServer`, `DNSClient`, `ArchivingDNSClient`, `PlaybackDNSClient`,
 * `NameMap`, `DeterministicScriptInjector`. docs/recall.md describes formats, modes, matching and error codes.
 */
export * from './errors.js';

export * from './archive.js';
export * from './archive-types.js';
export { urlOf, splitUrl } from './archive-codec.js';
export * from './archive-query.js';
export * from './archive-limits.js';
export { ArchiveJournal, journalPath } from './archive-journal.js';
export { ARCHIVE_FILE_MODE } from './archive-writer.js';
export { SKIP_REASONS, type SkipKind } from './entry-skips.js';
export * from './printable.js';

export * from './http-exchanger.js';
export * from './http-client.js';
export * from './archiving-http-client.js';
export * from './playback-http-client.js';
export * from './request-matcher.js';
export { VOLATILE_HEADERS, VOLATILE_HEADER_PREFIXES, MATCH_FIELDS, type RequestKey } from './request-key.js';
export * from './scrub.js';
export {
  CA_PEM_PATH,
  CA_DER_PATH,
  createRequestHandler,
  type NameForAddress,
  type RequestHandlerOptions,
} from './request-handler.js';
export type { ListenOptions } from './server-lifecycle.js';
export * from './http-server.js';
export * from './https-server.js';

export * from './certificate-authority.js';
export * from './dns-types.js';
export * from './dns-client.js';
export * from './dns-server.js';
export * from './archiving-dns-client.js';
export * from './playback-dns-client.js';
export * from './name-map.js';
export * from './deterministic-script-injector.js';
export * from './recording-clients.js';
