/**
 * The gRPC view of a recorded exchange, written as the HAR entry's `_recall.grpc` field so a reader sees each call's
 * messages and status without decoding bodies. Derived from the request and response bodies, headers and trailers
 * (which stay the source of truth: playback reads those, and the field is not read back).
 */
import type { RecordedExchange } from '../archive/archive-types.js';
import { grpcMessageOf, grpcStatusOf, isGrpc, splitMessages } from './grpc-messages.js';

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
  };
}
