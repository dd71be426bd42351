// An HTTP/2 client that resets one stream while Recall still reads its request body: no internal error, and the
// connection's other streams go on (the signal that stops exchanges is per session, and a reset stream must not
// abort it).
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import http2 from 'node:http2';
import { pino } from 'pino';
import { Archive, ArchivedProtocols, HTTPSServer, PlaybackHTTPClient } from '../../lib/recall/index.js';
import { h2Request, h2Session } from './h2-fixtures.js';
import { poll } from '../helpers/device-processes.js';
import { useRecallCa } from '../helpers/recall-ca.js';

describe('an h2 client resetting a stream mid-request', () => {
  const recallCa = useRecallCa('recall-h2-reset-');

  it('is answered by nobody and logged as no internal error; the session serves on', async () => {
    const archive = Archive.create();
    archive.recall.alpn = { 'h2.test': 'h2' };
    await archive.add({
      startedDateTime: new Date().toISOString(),
      timeMs: 1,
      request: { method: 'GET', scheme: 'https', host: 'h2.test', target: '/page', httpVersion: '2.0', headers: [], body: Buffer.alloc(0) },
      response: { status: 200, statusText: 'OK', httpVersion: '2.0', headers: [['content-type', 'text/plain']], body: Buffer.from('page') },
    });
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    const playback = new PlaybackHTTPClient(archive);
    await using server = new HTTPSServer({ exchanger: playback, certificates: recallCa(), protocols: new ArchivedProtocols(archive), logger: pino({ level: 'info' }, sink) });
    const { port } = await server.listen();
    const session = h2Session('h2.test', port, recallCa().rootCertificatePem);
    const posted = session.request({ ':method': 'POST', ':path': '/upload', ':authority': 'h2.test' });
    posted.write(Buffer.alloc(1000, 1));
    posted.on('error', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the body is being read
    posted.close(http2.constants.NGHTTP2_CANCEL);
    // The reset request reaches the matcher as a miss once its body ended (it is then answered to nobody).
    expect(await poll(async () => playback.missCount === 1)).toBe(true);
    const page = await h2Request(session, { ':path': '/page', ':authority': 'h2.test' });
    session.close();
    expect([page.status, page.body.toString()]).toEqual([200, 'page']);
    expect(lines.filter((line) => /request handler failed/.test(line))).toEqual([]);
  });
});
