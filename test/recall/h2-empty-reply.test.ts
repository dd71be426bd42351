// An empty HTTP/2 reply in playback (a 204, a gRPC trailers-only status) goes out as one HEADERS frame with the
// recorded headers only: Node's core `respond` adds a `date` of its own unless told not to, which made a header the
// recording never had (every other reply sends the recorded Date, if any, and nothing else).
import { describe, expect, it } from 'vitest';
import { Archive, ArchivedProtocols, HTTPSServer, PlaybackHTTPClient } from '../../lib/recall/index.js';
import { h2Request, h2Session } from './h2-fixtures.js';
import { useRecallCa } from '../helpers/recall-ca.js';

describe('empty HTTP/2 replies in playback', () => {
  const recallCa = useRecallCa('recall-h2-empty-');

  it('sends the recorded headers and no date of its own', async () => {
    const archive = Archive.create();
    archive.recall.alpn = { 'h2.test': 'h2' };
    const request = { method: 'GET', scheme: 'https' as const, host: 'h2.test', httpVersion: '2.0', headers: [], body: Buffer.alloc(0) };
    const empty = { status: 204, statusText: 'No Content', httpVersion: '2.0', body: Buffer.alloc(0) };
    await archive.add({ startedDateTime: new Date().toISOString(), timeMs: 1, request: { ...request, target: '/none' }, response: { ...empty, headers: [['x-kind', 'none']] } });
    await archive.add({
      startedDateTime: new Date().toISOString(),
      timeMs: 1,
      request: { ...request, target: '/dated' },
      response: { ...empty, headers: [['date', 'Tue, 01 Jan 2030 00:00:00 GMT']] },
    });
    await using server = new HTTPSServer({ exchanger: new PlaybackHTTPClient(archive), certificates: recallCa(), protocols: new ArchivedProtocols(archive) });
    const { port } = await server.listen();
    const session = h2Session('h2.test', port, recallCa().rootCertificatePem);
    const none = await h2Request(session, { ':path': '/none', ':authority': 'h2.test' });
    const dated = await h2Request(session, { ':path': '/dated', ':authority': 'h2.test' });
    session.close();
    expect([none.status, none.headers['x-kind'], none.headers.date]).toEqual([204, 'none', undefined]);
    expect([dated.status, dated.headers.date]).toEqual([204, 'Tue, 01 Jan 2030 00:00:00 GMT']);
  });
});
