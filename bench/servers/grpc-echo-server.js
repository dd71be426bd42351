// The gRPC benchmark's live origin: a @grpc/grpc-js server (TLS) with the Echo service's unary Say, as in
// test/fixtures/grpc/echo.proto. Prints `READY <port>`.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const { proto, certFile, keyFile } = JSON.parse(process.argv[2]);
const Echo = grpc.loadPackageDefinition(protoLoader.loadSync(proto)).recalltest.Echo;
const server = new grpc.Server();
server.addService(Echo.service, {
  say: (call, callback) => callback(null, { text: `said ${call.request.text}`, number: 1 }),
});
const credentials = grpc.ServerCredentials.createSsl(null, [
  { private_key: readFileSync(keyFile), cert_chain: readFileSync(certFile) },
]);
server.bindAsync('127.0.0.1:0', credentials, (error, port) => {
  if (error) throw error;
  process.stdout.write(`READY ${port}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.tryShutdown(() => process.exit(0)));
