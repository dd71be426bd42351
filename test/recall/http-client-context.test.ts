// HTTPClient with extraCAs verifies every upstream connection with one TLS context built at construction: passing
// the system roots plus the extra CAs as `ca` made Node build (and parse ~150 roots into) a new context per
// connection, 27-32 ms each (issue 18).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import tls from 'node:tls';
import { HTTPClient } from '../../lib/recall/index.js';
import { createTestCa, loopbackLookup, startOrigin, type Origin, type TestCa } from './http-fixtures.js';

const get = (port: number, host: string) => ({
  method: 'GET',
  scheme: 'https' as const,
  host: `${host}:${port}`,
  target: '/',
  httpVersion: '1.1',
  headers: [['Host', `${host}:${port}`]] as [string, string][],
  body: Buffer.alloc(0),
});

describe('HTTPClient upstream TLS context', () => {
  let labCa: TestCa;
  let origin: Origin;

  beforeAll(async () => {
    labCa = createTestCa('Lab Public CA');
    // Connection: close makes every request a new upstream connection (and a new handshake).
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      res.end('ok');
    }, labCa.issue('secure.test'));
  });
  afterAll(async () => {
    await origin.close();
  });

  it('reuses one secure context for every new connection and still verifies against the extra CA', async () => {
    const client = new HTTPClient({
      extraCAs: [labCa.pem],
      lookup: loopbackLookup,
      allowLocalUpstreams: true,
    });
    const fetchOnce = async (): Promise<void> => {
      const response = await client.exchange(get(origin.port, 'secure.test'));
      expect(response.status).toBe(200);
      for await (const chunk of response.body) void chunk;
    };
    await fetchOnce(); // the origin (same process) makes its own context for the name once, outside the count
    const made = vi.spyOn(tls, 'createSecureContext');
    try {
      for (let i = 0; i < 3; i++) await fetchOnce();
      expect(made).not.toHaveBeenCalled();
    } finally {
      made.mockRestore();
      await client.close();
    }
    // Verification is still on: a name the origin's certificate does not carry is refused.
    const strict = new HTTPClient({
      extraCAs: [labCa.pem],
      lookup: loopbackLookup,
      allowLocalUpstreams: true,
    });
    try {
      await expect(strict.exchange(get(origin.port, 'other.test'))).rejects.toThrow(/ALTNAME|certificate/i);
    } finally {
      await strict.close();
    }
  });
});
