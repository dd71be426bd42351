// Which form of a recorded body a client gets, from its Accept-Encoding (lib/recall/http/coding-negotiation.ts).
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { RecordedResponse } from '../../lib/recall/archive/archive-types.js';
import { acceptsCodings, bodyForClient } from '../../lib/recall/http/coding-negotiation.js';

const decoded = Buffer.from('hello, decoded world\n'.repeat(20));
const wire = gzipSync(decoded);
const response: RecordedResponse = {
  status: 200,
  statusText: 'OK',
  httpVersion: '1.1',
  headers: [
    ['Content-Type', 'text/plain'],
    ['Content-Encoding', 'gzip'],
    ['Content-Length', String(wire.length)],
  ],
  body: wire,
  decoded,
};

describe('coding negotiation', () => {
  it('sends the recorded coding to a client that takes it, and the decoded body to one that does not', () => {
    expect(bodyForClient(response, 'gzip, br').body).toBe(wire);
    const plain = bodyForClient(response, undefined);
    expect(plain.body).toBe(decoded);
    expect(plain.headers).toEqual([
      ['Content-Type', 'text/plain'],
      ['Content-Length', String(decoded.length)],
    ]);
    expect(acceptsCodings('gzip;q=0, br', ['gzip'])).toBe(false);
  });

  it('hands out the same header list on every replay, so what the server derives from it is reused', () => {
    expect(bodyForClient(response, 'identity').headers).toBe(bodyForClient(response, undefined).headers);
  });
});
