// Closing the HTTPS interceptor drains its HTTP/2 sessions: each ends as soon as its last stream does. A session
// whose client already sent GOAWAY (grpc-js does when its channel closes) while a stream was open is closing
// already: Node drops a close() callback for it, and the drain waited out its whole timeout.
import { describe, expect, it } from 'vitest';
import { Archive, ArchivedProtocols, HTTPSServer, PlaybackHTTPClient } from '../../lib/recall/index.js';
import { h2Session } from './h2-fixtures.js';
import { useRecallCa } from '../helpers/recall-ca.js';

describe('draining HTTP/2 sessions', () => {
  const recallCa = useRecallCa('recall-h2-drain-');

  it('ends a session whose client sent GOAWAY as soon as its last stream is done, not at the drain timeout', { timeout: 20_000 }, async () => {
    const archive = Archive.create();
    archive.recall.alpn = { 'h2.test': 'h2' };
    // A drain timeout far past the test's: waiting it out fails the test.
    const server = new HTTPSServer({ exchanger: new PlaybackHTTPClient(archive), certificates: recallCa(), protocols: new ArchivedProtocols(archive), drainTimeoutMs: 120_000 });
    const { port } = await server.listen();
    const session = h2Session('h2.test', port, recallCa().rootCertificatePem);
    await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
    const upload = session.request({ ':method': 'POST', ':path': '/upload', ':authority': 'h2.test' });
    upload.write('part of a body'); // the stream stays open: the request has not ended
    const status = new Promise<number>((resolve) => upload.on('response', (headers) => resolve(Number(headers[':status']))));
    upload.resume();
    await new Promise((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve(undefined)))); // the server has the stream open
    session.goaway(); // the client's GOAWAY: the server session starts closing, its stream still open
    await new Promise((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve(undefined)))); // the server read the GOAWAY
    const closed = server.close();
    upload.end(' and its end');
    expect(await status).toBe(404); // the stream finished (a miss: nothing is recorded)
    await closed;
    session.destroy();
  });
});
