/**
 * Entry point of the lab's internet process, started by `lab up` inside the internet namespace:
 * `node dist/server/lab/internet.js <config.json>`. Serves the authoritative DNS and every origin site over
 * HTTP (80) and HTTPS (443), then writes the ready file named in the configuration.
 *
 * One TLS listener serves every HTTPS site, like a real front end: the ALPN answer depends on the name the client
 * asked for (SNI). h2.lab.test and grpc.lab.test speak h2; every other site only HTTP/1.1, as many real servers do.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import tls from 'node:tls';
import { writeFileAtomic } from '../../lib/fs-atomic.js';
import { startDnsServer } from './internet-dns.js';
import { GRPC_HOST, startGrpcSite } from './internet-grpc.js';
import { H2_HOST } from './internet-h2.js';
import { handleSiteRequest } from './internet-sites.js';
import { attachTickerOverH2, attachTickerSite } from './internet-websocket.js';

/** Sites whose server offers h2 (the others answer HTTP/1.1 only). */
const H2_SITES = new Set([H2_HOST, GRPC_HOST]);

export interface InternetConfig {
  readonly zone: string;
  readonly dnsAddress: string;
  readonly sites: readonly { readonly name: string; readonly address: string }[];
  readonly certPath: string;
  readonly keyPath: string;
  readonly readyFile: string;
}

async function main(configPath: string): Promise<void> {
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as InternetConfig;
  await startDnsServer(
    { zone: config.zone, serverAddress: config.dnsAddress, records: config.sites },
    config.dnsAddress,
  );
  const http = createHttpServer((request, response) => handleSiteRequest(request, response, false));
  // These two never listen: the TLS listener hands them its decrypted connections.
  const http1OverTls = createHttpServer((request, response) => handleSiteRequest(request, response, true));
  const h2 = http2.createServer({ settings: { enableConnectProtocol: true } }, (request, response) =>
    handleSiteRequest(request as unknown as IncomingMessage, response as unknown as ServerResponse, true),
  );
  const grpc = startGrpcSite();
  attachTickerSite(http);
  attachTickerSite(http1OverTls);
  attachTickerOverH2(h2);
  const https = tls.createServer(
    {
      cert: readFileSync(config.certPath),
      key: readFileSync(config.keyPath),
      ALPNCallback: ({ servername, protocols }) => {
        const wantsH2 = H2_SITES.has(servername) || !protocols.includes('http/1.1');
        if (wantsH2 && protocols.includes('h2')) return 'h2';
        return protocols.includes('http/1.1') ? 'http/1.1' : undefined;
      },
    },
    (socket) => {
      if (socket.alpnProtocol === 'h2' && socket.servername === GRPC_HOST) grpc.injectConnection(socket);
      else if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
      else http1OverTls.emit('connection', socket);
    },
  );
  await new Promise<void>((resolve) => http.listen(80, '0.0.0.0', resolve));
  await new Promise<void>((resolve) => https.listen(443, '0.0.0.0', resolve));
  await writeFileAtomic(config.readyFile, `${process.pid}\n`);
}

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: node internet.js CONFIG.json (started by `lab up`)\n');
  process.exit(2);
}
main(configPath).catch((error: unknown) => {
  process.stderr.write(
    `lab internet failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
