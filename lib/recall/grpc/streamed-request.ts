/**
 * Which requests the request handler streams instead of reading them whole first: gRPC calls over HTTP/2, when
 * the exchanger can take a streamed body. A bidi or client-streaming client may send a message, wait for the
 * answer and only then send the next (never half-closing until the conversation ends): reading its body to the
 * end first would wait forever.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';
import type { HttpExchanger } from '../http/http-exchanger.js';
import { isGrpcContentType } from './grpc-messages.js';

export interface StreamedRequest {
  /** The body as it arrives; throws once it passes the size limit. */
  body: AsyncIterable<Buffer>;
  /** Aborted when this stream goes away before its response finished (the client cancelled, or disconnected). */
  signal: AbortSignal;
  /** True once the body passed the size limit: the call is cut, and the client is told so (RESOURCE_EXHAUSTED). */
  readonly exceeded: boolean;
}

async function* limited(req: IncomingMessage, limit: number, state: { exceeded: boolean }): AsyncIterable<Buffer> {
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      state.exceeded = true;
      throw new RecallError(RECALL_ERROR_CODES.UPSTREAM_PROTOCOL, `the gRPC request stream passed ${limit} bytes (maxRequestBodyBytes): stopped`);
    }
    yield chunk;
  }
}

/** The streamed body and the stream's own abort signal for a request to stream; undefined for any other. */
export function streamedRequestOf(
  req: IncomingMessage,
  res: ServerResponse,
  exchanger: HttpExchanger,
  limit: number,
): StreamedRequest | undefined {
  if (req.httpVersionMajor !== 2 || !exchanger.streamsRequestBodies || !isGrpcContentType(req.headers['content-type']))
    return undefined;
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  req.once('aborted', abort);
  res.once('close', () => {
    req.off('aborted', abort);
    if (!res.writableFinished) abort();
  });
  const state = { exceeded: false };
  return {
    body: limited(req, limit, state),
    signal: controller.signal,
    get exceeded() {
      return state.exceeded;
    },
  };
}

/** A streamed body read whole, for an exchanger (or a call) that needs all of it. */
export async function readWhole(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
