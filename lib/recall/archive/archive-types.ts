/**
 * Shapes of the Recall archive: the HAR 1.2 subset Recall writes (with its documented `_recall` extension fields)
 * and the decoded in-memory form the engine works with. Data only, no runtime code, so any side can import it.
 * docs/recall.md describes the file format field by field.
 */
import type { RecordedDnsAnswer } from '../dns/dns-types.js';
import type { GrpcCallEvent, GrpcCallRecord } from '../grpc/grpc-call-record.js';

/** Header lines in the order and spelling they had on the wire; duplicates stay separate lines. */
export type RawHeaders = Array<[name: string, value: string]>;

/** A request as Recall stores and matches it: body fully read, headers raw. */
export interface RecordedRequest {
  /** Method as sent (`GET`, `PROPFIND`); compared exactly. */
  method: string;
  scheme: 'http' | 'https';
  /** Authority the client asked for (the Host header, with `:port` when it had one), lower case. */
  host: string;
  /** Request target: path and query exactly as sent (`/a/b?x=1`). */
  target: string;
  /** `1.1` or `1.0`. */
  httpVersion: string;
  headers: RawHeaders;
  body: Buffer;
}

/** A response as Recall stores and replays it: the body bytes exactly as received (still content-encoded). */
export interface RecordedResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  headers: RawHeaders;
  body: Buffer;
  /**
   * The body with its Content-Encoding removed, when it has a known one that decodes (within the size cap). The
   * archive stores it as `content.text` (what HAR viewers show); playback serves it to a client that does not
   * accept the coding. Absent when the body has no coding. See content-coding.ts and har-content.ts.
   */
  decoded?: Buffer;
  /** HTTP/2 trailers sent after the body (HAR: `response._recall.trailers`). */
  trailers?: RawHeaders;
}

/**
 * One WebSocket message, in the form Chrome's HAR export gives it (`entry._webSocketMessages`): `send` went from
 * the client to the server, `receive` the other way; `time` in seconds since the epoch (with fractions);
 * `opcode` 1 (text, `data` the text) or 2 (binary, `data` base64).
 */
export interface HarWebSocketMessage {
  type: 'send' | 'receive';
  time: number;
  opcode: number;
  data: string;
}

/** One request and its complete response. */
export interface RecordedExchange {
  /** When the request was sent upstream, ISO 8601 with milliseconds. */
  startedDateTime: string;
  /** From sending the request to the last body byte, in milliseconds. */
  timeMs: number;
  request: RecordedRequest;
  response: RecordedResponse;
  /** For a WebSocket handshake (status 101): the messages that went over the connection, in order. */
  webSocketMessages?: HarWebSocketMessage[];
  /** For a gRPC call recorded streaming: its messages both ways in order (HAR: `_recall.grpc.events`). */
  grpcEvents?: GrpcCallEvent[];
}

/** The `log._recall` extension: the recording's initial state and its DNS answers. */
export interface RecallLogExtension {
  /** Format version of the `_recall` fields; this code writes {@link RECALL_ARCHIVE_VERSION}. */
  version: number;
  /** When the recording started: the clock the deterministic script replays. ISO 8601. */
  startedDateTime: string;
  /** Seed of the deterministic `Math.random` replacement. */
  randomSeed: number;
  /** DNS answers given during the recording, sorted by name then type. */
  dns: RecordedDnsAnswer[];
  /**
   * The application protocol (ALPN) each HTTPS host's real server chose during the recording, by SNI name
   * (lower case). Playback speaks that protocol with the host's clients; hosts not named get `http/1.1`.
   */
  alpn?: Record<string, AlpnProtocol>;
}

/** The application protocols the HTTPS interceptor speaks. */
export type AlpnProtocol = 'h2' | 'http/1.1';

/**
 * Version of the `_recall` fields written by this code. Archives with a higher version are refused. 1: bodies under
 * a Content-Encoding stored encoded (base64); 2: stored decoded, with the wire bytes in `content._recall.wire`.
 * Both load.
 */
export const RECALL_ARCHIVE_VERSION = 2;

export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarPostData {
  mimeType: string;
  params: HarNameValue[];
  /** Absent in some exports (HAR 1.2 allows `params` alone): the body is then rebuilt from `params`. */
  text: string;
  /** Recall extension: `base64` when `text` holds base64 of a body that is not UTF-8 text. */
  _encoding?: 'base64';
}

export interface HarContent {
  /** Length of the decoded body (of the stored bytes when they could not be decoded). */
  size: number;
  /** Bytes the Content-Encoding saved (decoded length minus wire length), when positive. */
  compression?: number;
  mimeType: string;
  /** The decoded body (HAR 1.2), as text, or as base64 when `encoding` says so (not UTF-8). */
  text: string;
  /** `base64` when `text` is base64 (the body is not valid UTF-8). */
  encoding?: 'base64';
  /** Recall extension (archive version 2), present only where the stored text is not the wire body: */
  _recall?: {
    /** base64 of the body exactly as sent, still content-encoded; `text` is the decoded body. */
    wire?: string;
    /** true: `text` (base64) is the body as sent, still content-encoded (unknown coding, corrupt, or too big to decode). */
    encoded?: true;
  };
}

export interface HarRequest {
  method: string;
  url: string;
  httpVersion: string;
  cookies: unknown[];
  headers: HarNameValue[];
  queryString: HarNameValue[];
  postData?: HarPostData;
  headersSize: number;
  bodySize: number;
}

export interface HarResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  cookies: unknown[];
  headers: HarNameValue[];
  content: HarContent;
  /** Recall extension: the HTTP/2 trailers that followed the body. */
  _recall?: { trailers?: HarNameValue[] };
  redirectURL: string;
  headersSize: number;
  bodySize: number;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: HarRequest;
  response: HarResponse;
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
  /** Recall extension: the gRPC view of a gRPC call (lib/recall/grpc/grpc-call-record.ts), derived on write. */
  _recall?: { grpc?: GrpcCallRecord };
  /** `websocket` for a WebSocket handshake (Chrome's export marks it so). */
  _resourceType?: string;
  /** The WebSocket connection's messages, as Chrome exports them. */
  _webSocketMessages?: HarWebSocketMessage[];
}

export interface HarLog {
  version: '1.2';
  creator: { name: string; version: string };
  entries: HarEntry[];
  _recall: RecallLogExtension;
}

export interface HarFile {
  log: HarLog;
}
