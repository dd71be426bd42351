/**
 * Entry point of the lab's internet process, started by `lab up` inside the internet namespace:
 * `node dist/server/lab/internet.js <config.json>`. Serves the authoritative DNS and every origin site over
 * HTTP (80) and HTTPS (443), then writes the ready file named in the configuration.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { writeFileAtomic } from '../../lib/fs-atomic.js';
import { startDnsServer } from './internet-dns.js';
import { handleSiteRequest } from './internet-sites.js';
import { attachTickerSite } from './internet-websocket.js';

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
  const https = createHttpsServer(
    { cert: readFileSync(config.certPath), key: readFileSync(config.keyPath) },
    (request, response) => handleSiteRequest(request, response, true),
  );
  attachTickerSite(http);
  attachTickerSite(https);
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
