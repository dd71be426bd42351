/**
 * gRPC messages as text for `recall show --proto FILE`: the .proto is loaded with @grpc/proto-loader and each
 * recorded message is decoded with its method's request or response type, to JSON. A message that does not decode
 * (another .proto, a compressed message) stays hex only. proto-loader (and protobufjs under it) is loaded only
 * here, when asked: every other Recall process (serve, test_RecallServer) would carry about 3 MB of it for nothing.
 */
import type protoLoader from '@grpc/proto-loader';
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';

/** Text of one message of `method` (`/pkg.Service/Method`), or undefined when the .proto cannot decode it. */
export type GrpcMessageText = (method: string, direction: 'request' | 'response', bytes: Buffer) => string | undefined;

export async function grpcTextFromProto(file: string): Promise<GrpcMessageText> {
  const { default: loader } = await import('@grpc/proto-loader');
  let definition: protoLoader.PackageDefinition;
  try {
    definition = loader.loadSync(file, { keepCase: true, longs: String, enums: String, bytes: String });
  } catch (error) {
    throw new RecallError(
      RECALL_ERROR_CODES.INVALID_OPTION,
      `cannot load the .proto ${file} (${(error as Error).message.split('\n')[0]}); give a .proto file protoc accepts`,
    );
  }
  const methods = new Map<string, protoLoader.MethodDefinition<object, object>>();
  for (const entry of Object.values(definition)) {
    if ('format' in entry) continue; // a message or enum type, not a service
    for (const method of Object.values(entry as protoLoader.ServiceDefinition)) methods.set(method.path, method);
  }
  return (method, direction, bytes) => {
    const found = methods.get(method);
    if (!found) return undefined;
    try {
      const decoded = direction === 'request' ? found.requestDeserialize(bytes) : found.responseDeserialize(bytes);
      return JSON.stringify(decoded);
    } catch {
      return undefined;
    }
  };
}
