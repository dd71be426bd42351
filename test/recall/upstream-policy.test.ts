// A device picks Recall's upstream (Host header, DNS answers): it must not reach the Recall server's own services.
// A real HTTPServer forwarding through a real HTTPClient, a real "secret" service on loopback, real curl.
import { get } from 'node:http';
import type { LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPClient } from '../../lib/recall/http/http-client.js';
import { HTTPServer } from '../../lib/recall/http/http-server.js';
import { refusedUpstreamKind, UPSTREAM_REFUSED } from '../../lib/recall/http/upstream-policy.js';
import { loopbackLookup, startOrigin, type Origin } from './http-fixtures.js';

/** Sends `GET url` to Recall at 127.0.0.1:`port` with the URL's authority as Host, as a redirected device does. */
function ask(
  url: string,
  port: number,
): Promise<{ status: number; error: string | undefined; body: string }> {
  const { host, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: pathname, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          error: res.headers['x-recall-error'] as string | undefined,
          body,
        }),
      );
    }).on('error', reject);
  });
}

/** A resolver whose every answer is the given address: a DNS answer that tries to lead into the server. */
const answering = (address: string, family = 4): LookupFunction =>
  ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;

describe('upstream policy', () => {
  it('names what each address is, and lets other addresses through', () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
    const cases: [string, string | undefined][] = [
      ['127.0.0.1', 'loopback'],
      ['127.5.6.7', 'loopback'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['169.254.169.254', 'link-local'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['224.0.0.251', 'multicast'],
      ['ff02::fb', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['198.18.7.7', undefined],
      ['2001:2::7', undefined],
      ['93.184.215.14', undefined],
      ['not-an-address', 'not an IP address'],
    ];
    if (own) cases.push([own, 'an address of this machine']);
    for (const [address, kind] of cases)
      expect([address, refusedUpstreamKind(address)]).toEqual([address, kind]);
  });
});

describe('HTTPClient refuses upstreams on the Recall server itself', () => {
  let secret: Origin;
  let server: HTTPServer;
  let port: number;
  const lookups: { lookup?: LookupFunction } = {};

  beforeAll(async () => {
    secret = await startOrigin((_req, res) => res.end('secret admin page'));
    // Forwards through whichever resolver the test sets, as a device's DNS answer would steer it.
    const client = new HTTPClient({
      lookup: ((...args: Parameters<LookupFunction>) =>
        (lookups.lookup ?? loopbackLookup)(...args)) as LookupFunction,
    });
    server = new HTTPServer({ exchanger: client, host: '127.0.0.1', port: 0 });
    port = (await server.listen()).port;
  });
  afterAll(async () => {
    await server.close();
    await secret.close();
  });

  it('answers 502 naming the host, the address and the way to allow it, for literals and for names', async () => {
    const targets: [string, string, string][] = [
      [`http://127.0.0.1:${secret.port}/admin`, '127.0.0.1', 'a loopback address'],
      [`http://[::1]:${secret.port}/admin`, '::1', 'a loopback address'],
      [`http://[::ffff:127.0.0.1]:${secret.port}/admin`, '::ffff:7f00:1', 'a loopback address'],
      [`http://127.1.2.3:${secret.port}/admin`, '127.1.2.3', 'a loopback address'],
      [`http://0.0.0.0:${secret.port}/admin`, '0.0.0.0', 'an unspecified address'],
      [`http://169.254.169.254/latest/meta-data/`, '169.254.169.254', 'a link-local address'],
      [`http://localhost:${secret.port}/admin`, 'localhost (127.0.0.1)', 'a loopback address'],
    ];
    for (const [url, named, kind] of targets) {
      lookups.lookup = answering('127.0.0.1');
      const answer = await ask(url, port);
      expect(answer.status, url).toBe(502);
      expect(answer.error, url).toBe(UPSTREAM_REFUSED);
      expect(answer.body, url).toContain(`refusing to forward to ${named}: it is ${kind}`);
      expect(answer.body, url).toContain('allowLocalUpstreams (test_RecallServer: allow_local_upstreams=1)');
    }
    expect(secret.requests).toBe(0);
    expect(secret.connections).toBe(0);
  });

  it('refuses a name whose DNS answer is link-local or multicast, whatever resolver the client was given', async () => {
    for (const address of ['169.254.169.254', '224.0.0.1']) {
      lookups.lookup = answering(address);
      const answer = await ask('http://metadata.example.test/latest/', port);
      expect(answer.status).toBe(502);
      expect(answer.error).toBe(UPSTREAM_REFUSED);
      expect(answer.body).toContain(`metadata.example.test (${address})`);
    }
    expect(secret.connections).toBe(0);
  });

  it('forwards to this machine when a test allows it explicitly', async () => {
    const client = new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true });
    const allowing = new HTTPServer({ exchanger: client, host: '127.0.0.1', port: 0 });
    try {
      const allowingPort = (await allowing.listen()).port;
      const answer = await ask(`http://127.0.0.1:${secret.port}/admin`, allowingPort);
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('secret admin page');
      expect(secret.requests).toBe(1);
    } finally {
      await allowing.close();
      await client.close();
    }
  });
});
