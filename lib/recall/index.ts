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

export * from './archive/archive.js';
export * from './archive/archive-types.js';
export { urlOf, splitUrl } from './archive/archive-codec.js';
export * from './archive/archive-query.js';
export * from './archive/archive-limits.js';
export { ArchiveJournal, journalPath } from './archive/archive-journal.js';
export { ARCHIVE_FILE_MODE } from './archive/archive-writer.js';
export { SKIP_REASONS, type SkipKind } from './archive/entry-skips.js';
export * from './printable.js';

export * from './http/http-exchanger.js';
export * from './http/http-client.js';
export * from './http/archiving-http-client.js';
export * from './http/playback-http-client.js';
export * from './http/request-matcher.js';
export { VOLATILE_HEADERS, VOLATILE_HEADER_PREFIXES, MATCH_FIELDS, type RequestKey } from './http/request-key.js';
export * from './archive/scrub.js';
export {
  CA_PEM_PATH,
  CA_DER_PATH,
  createRequestHandler,
  type NameForAddress,
  type RequestHandlerOptions,
} from './http/request-handler.js';
export type { ListenOptions } from './server-lifecycle.js';
export * from './http/http-server.js';
export * from './tls/https-server.js';

export * from './tls/certificate-authority.js';
export * from './dns/dns-types.js';
export * from './dns/dns-client.js';
export * from './dns/dns-server.js';
export * from './dns/archiving-dns-client.js';
export * from './dns/playback-dns-client.js';
export * from './dns/name-map.js';
export * from './determinism/deterministic-script-injector.js';
export * from './recording-clients.js';
export * from './websocket/websocket-exchanger.js';
export * from './websocket/websocket-recorder.js';
export * from './websocket/websocket-player.js';
export { FrameMatcher, type FrameMatchRules } from './websocket/frame-matcher.js';
export { HandshakeMatcher, VOLATILE_HANDSHAKE_HEADERS, isWebSocketExchange } from './websocket/handshake-matcher.js';
export { mismatchLine, type WebSocketMismatch } from './websocket/websocket-conversation.js';
export type { UpstreamWebSocketOptions } from './websocket/upstream-websocket.js';
export { ArchivedProtocols, HTTP1_ONLY, type ProtocolChoice } from './http2/alpn-choice.js';
export * from './http2/upstream-protocol-probe.js';
export * from './http2/h2-upstream-client.js';
export * from './grpc/grpc-playback-client.js';
export { grpcCallOf, type GrpcCallEvent, type GrpcCallRecord } from './grpc/grpc-call-record.js';
export { grpcMismatchLine, type GrpcStreamMismatch } from './grpc/grpc-stream-replay.js';
export { grpcTextFromProto, type GrpcMessageText } from './grpc/grpc-proto-text.js';
export * from './mode-clients.js';
