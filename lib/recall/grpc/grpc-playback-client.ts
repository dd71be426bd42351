/**
 * gRPC playback, after rpcreplay: calls are told apart from other requests by their content type and answered
 * here; everything else goes to the inner `PlaybackHTTPClient`. A unary call (one message each way) is matched on
 * its method and its message bytes, identical calls answered by the recordings in recorded order (the last one
 * again once they run out); a streaming call is matched on its method alone, its recordings served in order, each
 * replaying its response messages and trailers as recorded. A miss answers a trailers-only reply with
 * `UNIMPLEMENTED` (method never recorded) or `NOT_FOUND` (no recording of that message), naming the nearest
 * recorded call, and is also counted in the inner client's misses (the misses file).
 */
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import type { RecordedExchange, RecordedRequest } from '../archive/archive-types.js';
import { bodyOf, type ExchangeResponse, type HttpExchanger } from '../http/http-exchanger.js';
import type { PlaybackHTTPClient } from '../http/playback-http-client.js';
import { encodeGrpcMessage, GRPC_STATUS, isGrpc, splitMessages } from './grpc-messages.js';

interface RecordedCall {
  exchange: RecordedExchange;
  /** The request message of a unary call (one message each way); undefined for a streaming call. */
  unaryMessage: Buffer | undefined;
}

const HEX_SHOWN = 64;

function hexOf(bytes: Buffer | undefined): string {
  if (!bytes) return '(none)';
  const hex = bytes.subarray(0, HEX_SHOWN).toString('hex');
  return bytes.length > HEX_SHOWN ? `${hex}… (${bytes.length} bytes)` : hex || '(empty)';
}

export class GrpcPlaybackClient implements HttpExchanger {
  readonly #inner: PlaybackHTTPClient;
  readonly #calls = new Map<string, RecordedCall[]>();
  /** How many calls were answered per unary message or per streaming method: the next recording to serve. */
  readonly #served = new Map<string, number>();
  readonly #used = new Set<RecordedExchange>();
  #hits = 0;
  readonly #logger: Logger;

  constructor(inner: PlaybackHTTPClient, options: { logger?: Logger } = {}) {
    this.#inner = inner;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'grpc-playback' });
    const recorded = inner.archive.exchanges
      .filter((e) => isGrpc(e.request.headers))
      .sort((a, b) => a.startedDateTime.localeCompare(b.startedDateTime));
    for (const exchange of recorded) {
      const sent = splitMessages(exchange.request.body);
      const received = splitMessages(exchange.response.body);
      const unary = sent?.length === 1 && (received?.length ?? 0) <= 1;
      const key = this.#keyOf(exchange.request);
      const calls = this.#calls.get(key) ?? [];
      calls.push({ exchange, unaryMessage: unary ? sent[0]!.bytes : undefined });
      this.#calls.set(key, calls);
    }
  }

  /** The archive played back (the HTTPS interceptor makes its hosts' certificates before listening). */
  get archive(): PlaybackHTTPClient['archive'] {
    return this.#inner.archive;
  }

  #keyOf(request: RecordedRequest): string {
    return `${request.host} ${request.target}`;
  }

  async exchange(request: RecordedRequest): Promise<ExchangeResponse> {
    if (!isGrpc(request.headers)) return this.#inner.exchange(request);
    const key = this.#keyOf(request);
    const calls = this.#calls.get(key);
    if (!calls) {
      const known = [...this.#calls.keys()].filter((k) => k.startsWith(`${request.host} `)).map((k) => k.split(' ')[1]);
      return this.#miss(request, GRPC_STATUS.UNIMPLEMENTED, `no call of ${request.target} on ${request.host} was recorded; recorded methods: ${known.join(', ') || '(none)'}`);
    }
    const sent = splitMessages(request.body);
    const unary = sent?.length === 1 ? sent[0]!.bytes : undefined;
    const same = unary ? calls.filter((c) => c.unaryMessage?.equals(unary)) : [];
    const candidates = same.length > 0 ? same : calls.filter((c) => c.unaryMessage === undefined);
    if (candidates.length === 0) {
      const nearest = calls.find((c) => c.unaryMessage) ?? calls[0]!;
      return this.#miss(
        request,
        GRPC_STATUS.NOT_FOUND,
        `no recorded call of ${request.target} with message ${hexOf(unary ?? request.body)}; nearest recorded call: ${request.target} with message ${hexOf(nearest.unaryMessage ?? nearest.exchange.request.body)}`,
      );
    }
    const servedKey = same.length > 0 ? `${key} ${unary!.toString('base64')}` : key;
    const index = this.#served.get(servedKey) ?? 0;
    this.#served.set(servedKey, index + 1);
    const { exchange } = candidates[Math.min(index, candidates.length - 1)]!;
    const { response } = exchange;
    this.#used.add(exchange);
    this.#hits++;
    this.#logger.debug({ method: request.target, recording: index }, 'gRPC HIT');
    const trailers = response.trailers;
    return {
      status: response.status,
      statusText: response.statusText,
      httpVersion: response.httpVersion,
      headers: response.headers.filter(([name]) => !name.startsWith(':')),
      body: bodyOf(response.body),
      ...(trailers ? { trailers: () => trailers } : {}),
    };
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

  /** Rewinds the recorded order of identical calls and streams (a new iteration). */
  reset(): void {
    this.#served.clear();
    this.#used.clear();
  }

  async close(): Promise<void> {
    await this.#inner.close();
  }
}
