#!/usr/bin/env node
// The server side of the Recall benchmarks, run in its own process (pinned to the server core by the caller).
//   replay: HTTPServer and HTTPSServer answering from two archives (PlaybackHTTPClient), certificates from the CA
//   record: HTTPServer recording through ArchivingHTTPClient(HTTPClient) to 127.0.0.1, whatever the Host names
//   dns:    DNSServer answering from recorded answers (PlaybackDNSClient)
//   fixture: replay as test_RecallServer wires it: its servers and its playback client with a job's logger (debug
//            level, the level files under options.logDir: a HIT line per request), so the fixture's logging cost
//            is measured as a job pays it
// Prints `READY {json with the ports}` on stdout and runs until SIGTERM.
import { readFileSync } from 'node:fs';
import {
  Archive,
  ArchivingHTTPClient,
  CertificateAuthority,
  DNSServer,
  HTTPClient,
  HTTPServer,
  HTTPSServer,
  PlaybackDNSClient,
  PlaybackHTTPClient,
} from '../../dist/lib/recall/index.js';
import { createLogger, openLevelFiles } from '../../dist/lib/logging.js';

const options = JSON.parse(process.argv[2]);
const closers = [];
const ready = {};

if (options.mode === 'replay' || options.mode === 'fixture') {
  const files = options.mode === 'fixture' ? openLevelFiles(options.logDir, 'autoserv') : undefined;
  const logger = files && createLogger(files.streams, { test: 'test_RecallServer' });
  const ca = await CertificateAuthority.open('/O=Recall Bench/CN=Recall Bench Root', { dir: options.caDir });
  const http = new HTTPServer({
    exchanger: new PlaybackHTTPClient(await Archive.load(options.httpArchive), { logger }),
    port: 0,
    logger,
  });
  const https = new HTTPSServer({
    exchanger: new PlaybackHTTPClient(await Archive.load(options.httpsArchive), { logger }),
    certificates: ca,
    port: 0,
    logger,
  });
  ready.http = (await http.listen()).port;
  ready.https = (await https.listen()).port;
  closers.push(
    () => http.close(),
    () => https.close(),
    () => ca.close(),
    async () => files?.close(), // last: the servers log while closing
  );
} else if (options.mode === 'record') {
  // Every name resolves to loopback: the page set's origin (nginx) runs there.
  const lookup = (hostname, opts, callback) => {
    if (typeof opts === 'function') callback = opts;
    if (opts?.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
  };
  const archive = Archive.create();
  const recorder = new ArchivingHTTPClient(new HTTPClient({ lookup, allowLocalUpstreams: true }), { archive });
  const http = new HTTPServer({ exchanger: recorder, port: 0 });
  ready.http = (await http.listen()).port;
  closers.push(async () => {
    await http.close();
    if (options.saveTo) await archive.save(options.saveTo);
    await recorder.close();
  });
} else if (options.mode === 'dns') {
  const answers = JSON.parse(readFileSync(options.answersFile, 'utf8'));
  const dns = await DNSServer.start({ resolver: new PlaybackDNSClient(answers), host: '127.0.0.1', port: 0 });
  ready.dns = dns.port;
  closers.push(() => dns.close());
} else {
  throw new Error(
    `recall-server: unknown mode ${JSON.stringify(options.mode)}, expected replay, record or dns`,
  );
}

let stopping = false;
process.on('SIGTERM', async () => {
  if (stopping) return;
  stopping = true;
  for (const close of closers) await close();
  process.exit(0);
});
process.stdout.write(`READY ${JSON.stringify(ready)}\n`);
