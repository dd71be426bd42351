// The h2 and gRPC benchmarks' server process: HTTPSServer + GrpcPlaybackClient(PlaybackHTTPClient) over the archive, speaking h2 with
// the hosts the archive recorded over h2 (ArchivedProtocols), on 127.0.0.1 port 0. Prints `READY <port>`.
import { join } from 'node:path';
import {
  Archive,
  ArchivedProtocols,
  CertificateAuthority,
  GrpcPlaybackClient,
  HTTPSServer,
  PlaybackHTTPClient,
} from '../../dist/lib/recall/index.js';

const { archive: file, dir } = JSON.parse(process.argv[2]);
const archive = await Archive.load(file);
const ca = await CertificateAuthority.open('/O=Recall Bench/CN=Recall Bench Root', { dir: join(dir, 'h2-ca') });
const server = new HTTPSServer({
  exchanger: new GrpcPlaybackClient(new PlaybackHTTPClient(archive)),
  certificates: ca,
  protocols: new ArchivedProtocols(archive),
  // As nginx's http2_max_requests here: h2load does not reconnect after a GOAWAY, so recycling would end the run.
  maxStreamsPerSession: 1_000_000,
});
const { port } = await server.listen();
process.stdout.write(`READY ${port} ${ca.rootCertificateFile}\n`);
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => void server.close().then(() => ca.close()).then(() => process.exit(0)));
