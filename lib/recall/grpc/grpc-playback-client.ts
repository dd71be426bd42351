/**
 * gRPC playback, after rpcreplay: calls are told apart from other requests by their content type and answered
 * here; everything else goes to the inner `PlaybackHTTPClient`. A method whose every recorded call is unary (one
 * message each way) is matched on its method and its first message's bytes, identical calls answered by the
 * recordings in recorded order (the last one again once they run out). Any other method is streaming: matched on the method alone, its recordings served in order, each replayed message by message in its
 * recorded interleaving with the client's messages (grpc-stream-replay.ts), differences reported in
 * `mismatches()`. A miss answers a trailers-only reply with `UNIMPLEMENTED` (method never recorded) or `NOT_FOUND`
 * (no recording of that message), naming the nearest recorded call, and is also counted in the inner client's
 * misses (the misses file).
 */
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import type { RecordedExchange, RecordedRequest } from '../archive/archive-types.js';
import { bodyOf, type ExchangeOptions, type ExchangeResponse, type HttpExchanger } from '../http/http-exchanger.js';
import type { PlaybackHTTPClient } from '../http/playback-http-client.js';
import { encodeGrpcMessage, GRPC_STATUS, isGrpc, splitMessages } from './grpc-messages.js';
import { grpcMismatchLine, hexOf, recordedReply, replayStream, type GrpcStreamMismatch } from './grpc-stream-replay.js';
import { readWhole } from './streamed-request.js';
import { ClientMessages } from './grpc-frame-reader.js';

interface RecordedCall {
  exchange: RecordedExchange;
  /** The request message of a unary call (one message each way); undefined for a streaming call. */
  unaryMessage: Buffer | undefined;
}

/** Unary: one message each way. */
function unaryMessageOf(exchange: RecordedExchange): Buffer | undefined {
  const sent = splitMessages(exchange.request.body);
  const received = splitMessages(exchange.response.body);
  return sent?.length === 1 && (received?.length ?? 0) <= 1 ? sent[0]!.bytes : undefined;
}

/**
 * The client's first message (as on the wire; empty when it sent none), answered as soon as it is whole: a unary
 * client half-closes with it, and a one-message conversation waits for the answer before it does. The rest of the
 * body is read and dropped so the stream can finish.
 */
async function firstMessage(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const messages = new ClientMessages(body);
  const first = await messages.next();
  messages.drain();
  return first ?? Buffer.alloc(0);
}

export interface GrpcPlaybackClientOptions {
  logger?: Logger;
  /** Streaming calls that differed from their recording kept in `mismatches()`; more are only logged. @default 1000 */
  maxMismatches?: number;
  /** Longest recorded gap between stream messages that playback waits out, in ms. @default 2000 */
  maxMessageDelayMs?: number;
}

export class GrpcPlaybackClient implements HttpExchanger {
  readonly #inner: PlaybackHTTPClient;
  readonly #calls = new Map<string, RecordedCall[]>();
  /** Methods (by key) with a recording that is not unary: replayed as streams. */
  readonly #streaming = new Set<string>();
  /** How many calls were answered per unary message or per streaming method: the next recording to serve. */
  readonly #served = new Map<string, number>();
  readonly #used = new Set<RecordedExchange>();
  readonly #mismatches: GrpcStreamMismatch[] = [];
  readonly #maxMismatches: number;
  readonly #maxMessageDelayMs: number | undefined;
  #hits = 0;
  readonly #logger: Logger;
  /** gRPC calls are streamed to this client (their messages paced as recorded); others go to the inner one whole. */
  readonly streamsRequestBodies = true;

  constructor(inner: PlaybackHTTPClient, options: GrpcPlaybackClientOptions = {}) {
    this.#inner = inner;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'grpc-playback' });
    this.#maxMismatches = options.maxMismatches ?? 1000;
    this.#maxMessageDelayMs = options.maxMessageDelayMs;
    const recorded = inner.archive.exchanges
      .filter((e) => isGrpc(e.request.headers))
      .sort((a, b) => a.startedDateTime.localeCompare(b.startedDateTime));
    for (const exchange of recorded) {
      const unaryMessage = unaryMessageOf(exchange);
      const key = this.#keyOf(exchange.request);
      const calls = this.#calls.get(key) ?? [];
      calls.push({ exchange, unaryMessage });
      this.#calls.set(key, calls);
      if (!unaryMessage) this.#streaming.add(key);
    }
  }

  /** The archive played back (the HTTPS interceptor makes its hosts' certificates before listening). */
  get archive(): PlaybackHTTPClient['archive'] {
    return this.#inner.archive;
  }

  #keyOf(request: RecordedRequest): string {
    return `${request.host} ${request.target}`;
  }

  async exchange(request: RecordedRequest, options: ExchangeOptions = {}): Promise<ExchangeResponse> {
    const streamed = options.requestBody;
    if (!isGrpc(request.headers)) return this.#inner.exchange(streamed ? { ...request, body: await readWhole(streamed) } : request);
    const key = this.#keyOf(request);
    const calls = this.#calls.get(key);
    if (!calls) {
      const known = [...this.#calls.keys()].filter((k) => k.startsWith(`${request.host} `)).map((k) => k.split(' ')[1]);
      return this.#miss(request, GRPC_STATUS.UNIMPLEMENTED, `no call of ${request.target} on ${request.host} was recorded; recorded methods: ${known.join(', ') || '(none)'}`);
    }
    if (this.#streaming.has(key)) return this.#replay(key, calls, request, streamed ?? bodyOf(request.body), options.signal);
    const whole = streamed ? { ...request, body: await firstMessage(streamed) } : request;
    const sent = splitMessages(whole.body);
    const unary = sent?.length === 1 ? sent[0]!.bytes : undefined;
    const same = unary ? calls.filter((c) => c.unaryMessage?.equals(unary)) : [];
    if (same.length === 0) {
      const nearest = calls[0]!;
      return this.#miss(
        whole,
        GRPC_STATUS.NOT_FOUND,
        `no recorded call of ${request.target} with message ${hexOf(unary ?? whole.body)}; nearest recorded call: ${request.target} with message ${hexOf(nearest.unaryMessage)}`,
      );
    }
    const { response } = this.#next(`${key} ${unary!.toString('base64')}`, same);
    return recordedReply(response, bodyOf(response.body));
  }

  /** The recording to serve next from `candidates` (in recorded order, the last again once they run out). */
  #next(servedKey: string, candidates: RecordedCall[]): RecordedExchange {
    const index = this.#served.get(servedKey) ?? 0;
    this.#served.set(servedKey, index + 1);
    const { exchange } = candidates[Math.min(index, candidates.length - 1)]!;
    this.#used.add(exchange);
    this.#hits++;
    this.#logger.debug({ method: exchange.request.target, recording: index }, 'gRPC HIT');
    return exchange;
  }

  #replay(key: string, calls: RecordedCall[], request: RecordedRequest, client: AsyncIterable<Buffer>, signal?: AbortSignal): ExchangeResponse {
    const recording = Math.min(this.#served.get(key) ?? 0, calls.length - 1);
    const exchange = this.#next(key, calls);
    return replayStream(exchange, {
      url: `${request.scheme}://${request.host}${request.target}`,
      recording,
      client,
      signal,
      maxMessageDelayMs: this.#maxMessageDelayMs,
      onMismatch: (mismatch) => {
        this.#logger.warn(mismatch, grpcMismatchLine(mismatch));
        if (this.#mismatches.length < this.#maxMismatches) this.#mismatches.push(mismatch);
      },
    });
  }

  async #miss(request: RecordedRequest, status: number, text: string): Promise<ExchangeResponse> {
    // The inner client counts the miss (with its nearest recording) for the misses file; its 404 is not sent.
    const counted = await this.#inner.exchange(request);
    for await (const chunk of counted.body) void chunk;
    this.#logger.warn({ method: request.target, host: request.host, status }, 'gRPC MISS');
    return {
      status: 200,
      statusText: 'OK',
      httpVersion: '2.0',
      headers: [
        ['content-type', 'application/grpc'],
        ['grpc-status', String(status)],
        ['grpc-message', encodeGrpcMessage(`Recall: ${text}`)],
      ],
      body: bodyOf(Buffer.alloc(0)),
    };
  }

  /** gRPC calls answered from the archive (the inner client counts the other requests). */
  get hits(): number {
    return this.#hits;
  }

  /** Recorded gRPC calls no call has used yet (since the last `reset`). */
  unused(): RecordedExchange[] {
    return [...this.#calls.values()].flat().map((c) => c.exchange).filter((e) => !this.#used.has(e));
  }

  /** Streaming calls whose client messages differed from the recording (kept up to `maxMismatches`). */
  mismatches(): GrpcStreamMismatch[] {
    return [...this.#mismatches];
  }

  /** One line per such call, for an end-of-run summary. */
  mismatchSummary(): string[] {
    return this.#mismatches.map((m) => grpcMismatchLine(m)!);
  }

  /** Rewinds the recorded order of identical calls and streams (a new iteration). */
  reset(): void {
    this.#served.clear();
    this.#used.clear();
  }

  async close(): Promise<void> {
    await this.#inner.close();
  }
}
