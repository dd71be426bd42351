/**
 * The gRPC view of a recorded exchange, written as the HAR entry's `_recall.grpc` field so a reader sees each call's
 * messages and status without decoding bodies. Derived from the request and response bodies, headers and trailers
 * (which stay the source of truth), except `events`: the order and time of the messages, which only the recording
 * saw, and which playback reads back to replay a streaming call in its recorded interleaving.
 */
import type { RecordedExchange } from '../archive/archive-types.js';
import { grpcMessageOf, grpcStatusOf, isGrpc, splitMessages } from './grpc-messages.js';

/**
 * One step of a call as Recall relayed it, `time` in ms since the entry's `startedDateTime`: `send` the client's
 * request message number `message` (index into `requestMessages`), `receive` the server's response message
 * `message`, `end` the client half-closed its side (sent its last message). Written in the order they happened.
 */
export type GrpcCallEvent =
  | { type: 'send' | 'receive'; message: number; time: number }
  | { type: 'end'; time: number };

export interface GrpcCallRecord {
  /** The call's method path, `/package.Service/Method`. */
  method: string;
  /** Request messages in order, base64 (compressed ones as sent). */
  requestMessages: string[];
  /** Response messages in order, base64. */
  responseMessages: string[];
  /** `grpc-status` of the reply (0 is OK); absent when the reply had none. */
  status?: number;
  /** `grpc-message`, decoded. */
  message?: string;
  /** The reply was trailers-only: the status came in the headers, with no body and no trailers. */
  trailersOnly: boolean;
  /**
   * The messages both ways in the order they went through Recall (record mode streams gRPC calls). Absent in
   * archives recorded before, whose calls read the whole request first: playback then assumes that order.
   */
  events?: GrpcCallEvent[];
}

/** The gRPC view of `exchange`, or undefined when it is not a gRPC call (or its bodies are not gRPC framed). */
export function grpcCallOf(exchange: RecordedExchange): GrpcCallRecord | undefined {
  const { request, response } = exchange;
  if (!isGrpc(request.headers)) return undefined;
  const sent = splitMessages(request.body);
  const received = splitMessages(response.body);
  if (!sent || !received) return undefined;
  const status = grpcStatusOf(response.headers, response.trailers);
  const message = grpcMessageOf(response.headers, response.trailers);
  return {
    method: request.target,
    requestMessages: sent.map((m) => m.bytes.toString('base64')),
    responseMessages: received.map((m) => m.bytes.toString('base64')),
    ...(status === undefined ? {} : { status }),
    ...(message === undefined ? {} : { message }),
    trailersOnly: !response.trailers && response.body.length === 0 && status !== undefined,
    ...(exchange.grpcEvents ? { events: exchange.grpcEvents } : {}),
  };
}

/** What is wrong with an archive's `_recall.grpc.events`: the sub-path, the value and what was expected. */
export interface GrpcEventsProblem {
  path: string;
  value: unknown;
  expected: string;
}

/**
 * Checks `_recall.grpc.events` of an archive entry (untrusted: hand-edited or foreign files): an array of
 * `{type, time, message}` with `send` and `receive` messages numbered 0, 1, 2... each in its own direction.
 * @returns undefined when valid (or absent)
 */
export function grpcEventsProblem(grpc: unknown): GrpcEventsProblem | undefined {
  if (typeof grpc !== 'object' || grpc === null) return undefined;
  const events = (grpc as { events?: unknown }).events;
  if (events === undefined) return undefined;
  if (!Array.isArray(events)) return { path: '', value: events, expected: 'an array' };
  const next = { send: 0, receive: 0 };
  for (const [i, event] of events.entries()) {
    const at = `[${i}]`;
    if (typeof event !== 'object' || event === null) return { path: at, value: event, expected: 'an object' };
    const { type, time, message } = event as Record<string, unknown>;
    if (type !== 'send' && type !== 'receive' && type !== 'end')
      return { path: `${at}.type`, value: type, expected: '"send", "receive" or "end"' };
    if (typeof time !== 'number' || !Number.isFinite(time) || time < 0)
      return { path: `${at}.time`, value: time, expected: 'a number of ms, 0 or more' };
    if (type === 'end') continue;
    if (message !== next[type]) return { path: `${at}.message`, value: message, expected: `${next[type]} (the next ${type} message)` };
    next[type]++;
  }
  return undefined;
}

/** The events of an entry's `_recall.grpc` that `grpcEventsProblem` accepted; undefined when absent. */
export function grpcEventsOf(grpc: unknown): GrpcCallEvent[] | undefined {
  const events = (grpc as { events?: GrpcCallEvent[] } | undefined)?.events;
  return Array.isArray(events) ? events.map((e) => ({ ...e })) : undefined;
}
