/**
 * Plays one recorded streaming gRPC call back to a live client, step by step in the recorded order
 * (`_recall.grpc.events`): where the recording has the client send a message, the next client message is awaited;
 * where it has the server send one, it goes out; where the client half-closed, the client's end is awaited. Then
 * the recorded trailers (grpc-status). As in rpcreplay, a client message is not required to equal the recorded
 * one: the replay goes on, and the difference is counted (as are client messages beyond the recording and
 * recorded ones the client never sent) and reported once the call is over. A server message goes out as long after
 * the step before it as it did when recorded (capped at `maxMessageDelayMs`), so a stream of ticks keeps its pace
 * and a reply its think time. Archives without events were recorded with the whole request read first: that order
 * is assumed for them, with no delays.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedExchange } from '../archive/archive-types.js';
import { bodyOf, type ExchangeResponse } from '../http/http-exchanger.js';
import type { GrpcCallEvent } from './grpc-call-record.js';
import { ClientMessages } from './grpc-frame-reader.js';
import { wireMessages } from './grpc-messages.js';

/** How a played-back streaming call differed from its recording. */
export interface GrpcStreamMismatch {
  /** `https://host/package.Service/Method`. */
  url: string;
  /** Which recording of that method was played (0 is the first recorded). */
  recording: number;
  /** Client messages that differed from the recorded message at their place. */
  differentMessages: number;
  /** The first of those: its number in the call, and both messages as hex (cut to 64 bytes). */
  firstDifferent?: { message: number; sent: string; recorded: string };
  /** Client messages sent where the recording has the client half-close. */
  extraMessages: number;
  /** Recorded client messages the client never sent (it half-closed first). */
  missingMessages: number;
}

const HEX_SHOWN = 64;

/** Hex of a message's payload (the 5-byte frame head left out), cut to 64 bytes. */
export function hexOf(bytes: Buffer | undefined): string {
  if (!bytes) return '(none)';
  const hex = bytes.subarray(0, HEX_SHOWN).toString('hex');
  return bytes.length > HEX_SHOWN ? `${hex}… (${bytes.length} bytes)` : hex || '(empty)';
}

/** One line for a log or summary, or undefined when the call went as recorded. */
export function grpcMismatchLine(m: GrpcStreamMismatch): string | undefined {
  const parts: string[] = [];
  if (m.differentMessages > 0)
    parts.push(`${m.differentMessages} client message(s) differ from the recording (first: message ${m.firstDifferent!.message}, sent ${m.firstDifferent!.sent}, recorded ${m.firstDifferent!.recorded})`);
  if (m.extraMessages > 0) parts.push(`${m.extraMessages} client message(s) beyond the recording`);
  if (m.missingMessages > 0) parts.push(`${m.missingMessages} recorded client message(s) never sent`);
  return parts.length === 0 ? undefined : `GRPC MISMATCH ${m.url} (recording ${m.recording}): ${parts.join('; ')}`;
}

/** The recorded order: the events when they fit the bodies, else the whole request first (older archives). */
function orderOf(exchange: RecordedExchange, sent: number, received: number): GrpcCallEvent[] {
  const events = exchange.grpcEvents;
  const count = (type: string): number => events?.filter((e) => e.type === type).length ?? -1;
  if (events && count('send') === sent && count('receive') === received) return events;
  return [
    ...Array.from({ length: sent }, (_, message) => ({ type: 'send' as const, message, time: 0 })),
    { type: 'end', time: 0 },
    ...Array.from({ length: received }, (_, message) => ({ type: 'receive' as const, message, time: 0 })),
  ];
}

export interface StreamReplayOptions {
  url: string;
  /** Which recording of the method this is, for the report. */
  recording: number;
  /** The client's body as it arrives. */
  client: AsyncIterable<Buffer>;
  /** Aborted when the client cancels the call: the replay stops. */
  signal?: AbortSignal | undefined;
  /** Told how the call differed from the recording, once it is over (only when it did). */
  onMismatch: (mismatch: GrpcStreamMismatch) => void;
  /** Longest recorded gap replayed before a server message, in ms. @default 2000 */
  maxMessageDelayMs?: number | undefined;
}

/** The recorded reply to a streaming call, its body paced by the client's messages as recorded. */
export function replayStream(exchange: RecordedExchange, options: StreamReplayOptions): ExchangeResponse {
  const { request, response } = exchange;
  const recordedSent = wireMessages(request.body) ?? [];
  // A reply that is not gRPC framed (hand-edited) goes out whole, after the whole request.
  const replies = wireMessages(response.body) ?? (response.body.length > 0 ? [response.body] : []);
  const events = orderOf(exchange, recordedSent.length, replies.length);
  const trailersOnly = replies.length === 0 && !response.trailers;
  async function* body(): AsyncIterable<Buffer> {
    const client = new ClientMessages(options.client);
    const mismatch: GrpcStreamMismatch = { url: options.url, recording: options.recording, differentMessages: 0, extraMessages: 0, missingMessages: 0 };
    const maxDelayMs = options.maxMessageDelayMs ?? 2000;
    let previous = 0; // the recorded time of the step before
    try {
      for (const event of events) {
        const gap = Math.min(Math.max(event.time - previous, 0), maxDelayMs);
        previous = event.time;
        if (event.type === 'receive') {
          if (gap >= 1) await sleep(gap, undefined, { signal: options.signal }).catch(() => undefined);
          if (options.signal?.aborted) return;
          yield replies[event.message]!;
          continue;
        }
        if (event.type === 'send') {
          const sent = await client.next();
          if (options.signal?.aborted) return;
          const recorded = recordedSent[event.message]!;
          if (!sent) mismatch.missingMessages++;
          else if (!sent.equals(recorded) && mismatch.differentMessages++ === 0)
            mismatch.firstDifferent = { message: event.message, sent: hexOf(sent.subarray(5)), recorded: hexOf(recorded.subarray(5)) };
          continue;
        }
        while (await client.next()) mismatch.extraMessages++; // the recording has the client half-close here
        if (options.signal?.aborted) return;
      }
      if (grpcMismatchLine(mismatch)) options.onMismatch(mismatch);
    } finally {
      await client.stop();
    }
  }
  return {
    ...recordedReply(response, events.length === 0 ? bodyOf(Buffer.alloc(0)) : body()),
    // Headers go out at once unless the reply is trailers-only (one HEADERS frame, sent once the client is done).
    ...(trailersOnly ? {} : { headersOnly: false }),
  };
}

/** A recorded gRPC response as the interceptor sends it: status, headers (no pseudo-headers), `body`, trailers. */
export function recordedReply(response: RecordedExchange['response'], body: ExchangeResponse['body']): ExchangeResponse {
  const trailers = response.trailers;
  return {
    status: response.status,
    statusText: response.statusText,
    httpVersion: response.httpVersion,
    headers: response.headers.filter(([name]) => !name.startsWith(':')),
    body,
    ...(trailers ? { trailers: () => trailers } : {}),
  };
}
