/**
 * Everything one Recall mode answers a device with, put together the one way both `recall serve` and
 * `test_RecallServer` use: DNS, HTTP(S) with gRPC, the protocol (h2 or HTTP/1.1) per host, and WebSocket.
 *
 * Record: the live upstream clients, their answers written to the archive (and its journal), the protocol each
 * real server chose learned by probing it. Proxy: the same live clients, nothing recorded. Playback: all of it
 * answered from the archive, with no network.
 */
import type { Logger } from 'pino';
import { Archive } from './archive/archive.js';
import type { ScrubMode } from './archive/scrub.js';
import type { RecordedExchange } from './archive/archive-types.js';
import type { DnsResolver } from './dns/dns-types.js';
import { PlaybackDNSClient } from './dns/playback-dns-client.js';
import { HTTPClient } from './http/http-client.js';
import type { HttpExchanger } from './http/http-exchanger.js';
import { PlaybackHTTPClient } from './http/playback-http-client.js';
import { ArchivedProtocols, type ProtocolChoice } from './http2/alpn-choice.js';
import { H2UpstreamClient } from './http2/h2-upstream-client.js';
import { UpstreamProtocolProbe } from './http2/upstream-protocol-probe.js';
import { grpcCallOf } from './grpc/grpc-call-record.js';
import { GrpcPlaybackClient } from './grpc/grpc-playback-client.js';
import { recordingClients } from './recording-clients.js';
import type { WebSocketExchanger } from './websocket/websocket-exchanger.js';
import { WebSocketPlayer } from './websocket/websocket-player.js';
import { WebSocketRecorder } from './websocket/websocket-recorder.js';

export interface ModeClients {
  dns: DnsResolver;
  http: HttpExchanger;
  protocols: ProtocolChoice;
  webSocket: WebSocketExchanger;
}

export interface RecordModeOptions {
  /** Resolves the device's questions upstream (a `DNSClient`). */
  dns: DnsResolver;
  /** PEM certificates trusted for upstream TLS besides the system roots. */
  extraCAs?: string[];
  /** Let the device reach loopback and this machine's own addresses (tests with local origins). @default false */
  allowLocalUpstreams?: boolean;
  scrub?: ScrubMode;
  logger?: Logger;
}

/** Record mode: live upstreams, everything they answer written into `archive`. `close()` closes the upstreams. */
export function recordModeClients(archive: Archive, options: RecordModeOptions): ModeClients {
  const { extraCAs, allowLocalUpstreams, scrub, logger } = options;
  const upstream = { extraCAs, allowLocalUpstreams, logger };
  const protocols = new UpstreamProtocolProbe({ ...upstream, archive });
  // HTTP/1.1 hosts go through the inner client; hosts whose server chose h2 through one h2 session per origin.
  const http = new H2UpstreamClient({ ...upstream, inner: new HTTPClient(upstream), protocols });
  const recording = recordingClients(archive, { dns: options.dns, http }, { scrub, logger });
  const webSocket = new WebSocketRecorder({ archive, extraCAs, allowLocalUpstreams, scrub, logger });
  return { dns: recording.dns, http: recording.http, protocols, webSocket };
}

/**
 * Proxy mode: the live upstreams, h2 and WebSocket included, with nothing recorded (the protocol each server chose
 * is kept in a scratch archive that is never saved: one entry per host).
 */
export function proxyModeClients(options: RecordModeOptions): ModeClients {
  const { extraCAs, allowLocalUpstreams, logger } = options;
  const upstream = { extraCAs, allowLocalUpstreams, logger };
  const protocols = new UpstreamProtocolProbe({ ...upstream, archive: Archive.create() });
  const http = new H2UpstreamClient({ ...upstream, inner: new HTTPClient(upstream), protocols });
  return { dns: options.dns, http, protocols, webSocket: new WebSocketRecorder({ archive: undefined, ...upstream }) };
}

export interface PlaybackModeClients extends ModeClients {
  dns: PlaybackDNSClient;
  /** The HTTP(S) matcher: misses, hits and unused recordings of everything but gRPC calls. */
  playback: PlaybackHTTPClient;
  grpc: GrpcPlaybackClient;
  webSocket: WebSocketPlayer;
  /** Requests answered from the archive, gRPC calls included. */
  readonly hits: number;
  /** Recordings no request asked for, gRPC calls included. */
  unused(): RecordedExchange[];
  /** Rewinds every recorded order (HTTP, gRPC, WebSocket handshakes) for a new test iteration. */
  reset(): void;
}

/** Playback: DNS, HTTP(S), gRPC, protocols and WebSocket all answered from `archive`, with no network. */
export function playbackModeClients(
  archive: Archive,
  options: { scrub?: ScrubMode; logger?: Logger } = {},
): PlaybackModeClients {
  const { scrub, logger } = options;
  const playback = new PlaybackHTTPClient(archive, { scrub, logger });
  // gRPC calls are answered and counted by the gRPC client; the HTTP matcher never sees them.
  const grpc = new GrpcPlaybackClient(playback, { logger });
  return {
    dns: new PlaybackDNSClient(archive.recall.dns, { logger }),
    http: grpc,
    playback,
    grpc,
    protocols: new ArchivedProtocols(archive),
    webSocket: new WebSocketPlayer(archive, { scrub, misses: playback, logger }),
    get hits() {
      return playback.hits + grpc.hits;
    },
    unused: () => [...playback.unused().filter((e) => grpcCallOf(e) === undefined), ...grpc.unused()],
    reset() {
      playback.reset();
      grpc.reset();
      this.webSocket.reset();
    },
  };
}
