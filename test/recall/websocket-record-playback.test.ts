// WebSocket record and replay with real clients on loopback: a `ws` origin (plain and TLS), Recall's HTTPServer and
// HTTPSServer in record mode relaying and recording frames, the archive saved and loaded, then playback with the
// origin stopped: the same client conversation gets the same frames; extra and missing frames are reported,
// JSON ignore paths let a fresh id match, a handshake miss answers 404, a loopback origin is refused by policy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type WebSocket from 'ws';
import {
  Archive,
  CertificateAuthority,
  HTTPClient,
  HTTPSServer,
  HTTPServer,
  PlaybackHTTPClient,
  WebSocketPlayer,
  WebSocketRecorder,
  type HarFile,
} from '../../lib/recall/index.js';
import { createTestCa, curl, loopbackLookup, type TestCa } from './http-fixtures.js';
import {
  closeClient,
  connectThroughRecall,
  startWsOrigin,
  until,
  type WsOrigin,
} from './websocket-fixtures.js';

const SUBSCRIBE = { op: 'sub', id: 'r1' };

/** The conversation every client here has: text echo, binary echo, a JSON subscription that ticks three times. */
async function converse(
  socket: WebSocket,
  received: Array<string | Buffer>,
  subscribe: object = SUBSCRIBE,
  ms = 10_000,
): Promise<void> {
  await until(() => received.length === 1, ms);
  socket.send('hi');
  await until(() => received.length === 2, ms);
  socket.send(Buffer.from([1, 2, 3, 250]), { binary: true });
  await until(() => received.length === 3, ms);
  socket.send(JSON.stringify(subscribe));
  await until(() => received.length === 7, ms);
}

const EXPECTED = [
  'welcome',
  'echo:hi',
  Buffer.from([250, 3, 2, 1]),
  '{"ok":true,"op":"sub"}',
  '{"tick":1}',
  '{"tick":2}',
  '{"tick":3}',
];

describe('WebSocket record and playback', () => {
  let dir: string;
  let labCa: TestCa;
  let ca: CertificateAuthority;
  let plain: WsOrigin;
  let secure: WsOrigin;
  let archiveFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-ws-'));
    labCa = createTestCa('Lab Public CA');
    ca = await CertificateAuthority.open('/O=Recall WS Test', { dir: join(dir, 'ca') });
    plain = await startWsOrigin();
    secure = await startWsOrigin(labCa.issue('live.test'));
    archiveFile = join(dir, 'ws.har');
  });

  afterAll(async () => {
    await plain.close();
    await secure.close();
    await ca.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The conversation over ws:// (with a subprotocol) and over wss://, through Recall's two servers. */
  async function conversePlainAndSecure(httpPort: number, httpsPort: number): Promise<{ plainHeaders: Record<string, unknown> }> {
    const one = await connectThroughRecall({
      url: `ws://echo.test:${plain.port}/feed?x=1`,
      recallPort: httpPort,
      protocols: ['tick.v1'],
    });
    expect(one.socket.protocol).toBe('tick.v1');
    await converse(one.socket, one.received);
    expect(one.received).toEqual(EXPECTED);
    await closeClient(one.socket);

    const two = await connectThroughRecall({
      url: `wss://live.test:${secure.port}/feed`,
      recallPort: httpsPort,
      ca: ca.rootCertificatePem,
    });
    await converse(two.socket, two.received);
    expect(two.received).toEqual(EXPECTED);
    await closeClient(two.socket);
    return { plainHeaders: one.headers };
  }

  it('records ws:// and wss:// conversations, frames relayed both ways, into _webSocketMessages as Chrome has them', async () => {
    const archive = Archive.create();
    const upstream = { archive, lookup: loopbackLookup, allowLocalUpstreams: true, extraCAs: [labCa.pem] };
    await using http = new HTTPServer({
      exchanger: new HTTPClient(),
      webSocket: new WebSocketRecorder(upstream),
    });
    await using https = new HTTPSServer({
      exchanger: new HTTPClient(),
      certificates: ca,
      webSocket: new WebSocketRecorder(upstream),
    });
    const httpPort = (await http.listen()).port;
    const httpsPort = (await https.listen()).port;

    await conversePlainAndSecure(httpPort, httpsPort);

    await until(() => archive.exchanges.length === 2);
    expect(plain.connections + secure.connections).toBe(2);
    await archive.save(archiveFile);

    const har = JSON.parse(await readFile(archiveFile, 'utf8')) as HarFile;
    const entry = har.log.entries.find((e) => e.request.url === `ws://echo.test:${plain.port}/feed?x=1`)!;
    expect(entry.response.status).toBe(101);
    expect(entry._resourceType).toBe('websocket');
    const messages = entry._webSocketMessages!;
    expect(messages.map((m) => [m.type, m.opcode])).toEqual([
      ['receive', 1],
      ['send', 1],
      ['receive', 1],
      ['send', 2],
      ['receive', 2],
      ['send', 1],
      ['receive', 1],
      ['receive', 1],
      ['receive', 1],
      ['receive', 1],
    ]);
    expect(messages[3]!.data).toBe(Buffer.from([1, 2, 3, 250]).toString('base64'));
    expect(messages[1]!.data).toBe('hi');
    // Seconds since the epoch, as Chrome writes them.
    expect(Math.abs(messages[0]!.time - Date.now() / 1000)).toBeLessThan(120);
    expect(entry.response.headers.some((h) => h.name === 'X-Origin')).toBe(true);
    expect(har.log.entries.some((e) => e.request.url === `wss://live.test:${secure.port}/feed`)).toBe(true);
  });

  it('plays both back with the origins stopped: same frames, fresh Sec-WebSocket-Accept, recorded subprotocol and headers', async () => {
    await plain.close();
    await secure.close();
    const archive = await Archive.load(archiveFile);
    const playback = new PlaybackHTTPClient(archive);
    await using http = new HTTPServer({ exchanger: playback });
    await using https = new HTTPSServer({ exchanger: playback, certificates: ca });
    const httpPort = (await http.listen()).port;
    const httpsPort = (await https.listen()).port;

    // ws checks Sec-WebSocket-Accept against its own fresh key: the connection opening proves it right.
    const { plainHeaders } = await conversePlainAndSecure(httpPort, httpsPort);
    expect(plainHeaders['x-origin']).toBe('ws-fixture');
    expect(playback.missCount).toBe(0);
  });

  it('reports extra and missing client frames when the connection closes', async () => {
    const archive = await Archive.load(archiveFile);
    const player = new WebSocketPlayer(archive);
    await using http = new HTTPServer({ exchanger: new PlaybackHTTPClient(archive), webSocket: player });
    const { port } = await http.listen();
    const client = await connectThroughRecall({
      url: `ws://echo.test:${plain.port}/feed?x=1`,
      recallPort: port,
    });
    await until(() => client.received.length === 1);
    client.socket.send('hello?');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.received).toEqual(['welcome']); // nothing follows a frame that is not the recorded one
    await closeClient(client.socket);
    await until(() => player.mismatches().length === 1);
    expect(player.mismatches()[0]).toMatchObject({
      extraFrames: 1,
      missingFrames: 3,
      firstExtra: 'hello?',
      firstMissing: 'hi',
    });
    expect(player.mismatchSummary()[0]).toBe(
      `WEBSOCKET MISMATCH ws://echo.test:${plain.port}/feed?x=1: 1 client frame(s) not in the recording (first: "hello?"); 3 recorded client frame(s) never sent (first: "hi")`,
    );
  });

  it('matches JSON frames with ignore paths, and only with them', async () => {
    const archive = await Archive.load(archiveFile);
    const fresh = { id: 'r2-fresh', op: 'sub' };
    for (const ignoreJsonPaths of [['id'], []]) {
      const player = new WebSocketPlayer(archive, { ignoreJsonPaths });
      await using http = new HTTPServer({ exchanger: new PlaybackHTTPClient(archive), webSocket: player });
      const { port } = await http.listen();
      const client = await connectThroughRecall({
        url: `ws://echo.test:${plain.port}/feed?x=1`,
        recallPort: port,
      });
      if (ignoreJsonPaths.length > 0) {
        await converse(client.socket, client.received, fresh);
        expect(client.received).toEqual(EXPECTED);
      } else {
        await expect(converse(client.socket, client.received, fresh, 500)).rejects.toThrow(/in time/);
        expect(client.received).toHaveLength(3);
      }
      await closeClient(client.socket);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(player.mismatches().length).toBe(ignoreJsonPaths.length > 0 ? 0 : 1);
    }
  }, 30_000);

  it('answers a handshake not in the archive 404, counted as a playback miss', async () => {
    const archive = await Archive.load(archiveFile);
    const playback = new PlaybackHTTPClient(archive);
    await using http = new HTTPServer({ exchanger: playback });
    const { port } = await http.listen();
    const refused = await connectThroughRecall({
      url: `ws://echo.test:${plain.port}/other`,
      recallPort: port,
    }).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      status: 404,
      headers: { 'x-recall-miss': `GET http://echo.test:${plain.port}/other` },
    });
    expect(playback.missCount).toBe(1);
  });

  it('answers other upgrades (curl --http2 asks for h2c) as plain requests on the same connection', async () => {
    const archive = Archive.create();
    await archive.add({
      startedDateTime: new Date().toISOString(),
      timeMs: 1,
      request: {
        method: 'GET',
        scheme: 'http',
        host: 'page.test',
        target: '/',
        httpVersion: '1.1',
        headers: [],
        body: Buffer.alloc(0),
      },
      response: {
        status: 200,
        statusText: 'OK',
        httpVersion: '1.1',
        headers: [['Content-Length', '5']],
        body: Buffer.from('hello'),
      },
    });
    // HTTP2-Settings is curl's h2c offer, different on every run.
    await using http = new HTTPServer({
      exchanger: new PlaybackHTTPClient(archive, { ignoreHeaders: ['http2-settings'] }),
    });
    const { port } = await http.listen();
    const page = await curl('http://page.test/', port, ['--http2']);
    expect(page.status).toBe(200);
    expect(page.body.toString()).toBe('hello');
  });

  it('keeps recording bounded per connection while still relaying every frame', async () => {
    const origin = await startWsOrigin();
    try {
      const archive = Archive.create();
      const webSocket = new WebSocketRecorder({
        archive,
        lookup: loopbackLookup,
        allowLocalUpstreams: true,
        maxRecordedBytes: 12,
      });
      await using http = new HTTPServer({ exchanger: new HTTPClient(), webSocket });
      const { port } = await http.listen();
      const client = await connectThroughRecall({ url: `ws://echo.test:${origin.port}/`, recallPort: port });
      await until(() => client.received.length === 1);
      client.socket.send('hi');
      await until(() => client.received.length === 2);
      client.socket.send('more');
      await until(() => client.received.length === 3);
      expect(client.received).toEqual(['welcome', 'echo:hi', 'echo:more']);
      await closeClient(client.socket);
      await until(() => archive.exchanges.length === 1);
      // 'welcome' (7) + 'hi' (2) fit in 12 bytes; 'echo:hi' would not.
      expect(archive.exchanges[0]!.webSocketMessages!.map((m) => m.data)).toEqual(['welcome', 'hi']);
    } finally {
      await origin.close();
    }
  });

  it('refuses a loopback origin in record mode unless allowLocalUpstreams is set', async () => {
    const origin = await startWsOrigin();
    try {
      const webSocket = new WebSocketRecorder({ archive: Archive.create() });
      await using http = new HTTPServer({ exchanger: new HTTPClient(), webSocket });
      const { port } = await http.listen();
      const refused = await connectThroughRecall({
        url: `ws://127.0.0.1:${origin.port}/`,
        recallPort: port,
      }).catch((e: unknown) => e);
      expect(refused).toMatchObject({
        status: 502,
        headers: { 'x-recall-error': 'ERR_RECALL_UPSTREAM_REFUSED' },
      });
      expect(origin.connections).toBe(0);
    } finally {
      await origin.close();
    }
  });

  it('plays back a WebSocket entry as Chrome exports it (wss:// URL, messages with float seconds)', async () => {
    const started = 1_700_000_000.25;
    const chromeHar = {
      log: {
        version: '1.2',
        creator: { name: 'WebInspector', version: '537.36' },
        pages: [],
        entries: [
          {
            startedDateTime: new Date(started * 1000).toISOString(),
            time: 12,
            request: {
              method: 'GET',
              url: 'wss://chat.test/socket',
              httpVersion: 'HTTP/1.1',
              headers: [
                { name: 'Host', value: 'chat.test' },
                { name: 'Sec-WebSocket-Key', value: 'dGhlIHNhbXBsZSBub25jZQ==' },
                { name: 'Sec-WebSocket-Version', value: '13' },
              ],
              queryString: [],
              cookies: [],
              headersSize: -1,
              bodySize: 0,
            },
            response: {
              status: 101,
              statusText: 'Switching Protocols',
              httpVersion: 'HTTP/1.1',
              headers: [{ name: 'Sec-WebSocket-Accept', value: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' }],
              cookies: [],
              content: { size: 0, mimeType: 'x-unknown' },
              redirectURL: '',
              headersSize: -1,
              bodySize: 0,
              _transferSize: 0,
            },
            cache: {},
            timings: { blocked: -1, dns: -1, connect: -1, send: 0, wait: 12, receive: 0, ssl: -1 },
            _resourceType: 'websocket',
            _webSocketMessages: [
              { type: 'send', time: started + 0.1, opcode: 1, data: 'ping' },
              { type: 'receive', time: started + 0.15, opcode: 1, data: 'pong' },
              { type: 'receive', time: started + 0.2, opcode: 2, data: Buffer.from('AB').toString('base64') },
            ],
          },
        ],
      },
    };
    const file = join(dir, 'chrome-ws.har');
    await writeFile(file, JSON.stringify(chromeHar));
    const archive = await Archive.load(file);
    expect(archive.exchanges).toHaveLength(1);
    await using https = new HTTPSServer({ exchanger: new PlaybackHTTPClient(archive), certificates: ca });
    const { port } = await https.listen();
    const client = await connectThroughRecall({
      url: 'wss://chat.test/socket',
      recallPort: port,
      ca: ca.rootCertificatePem,
    });
    client.socket.send('ping');
    await until(() => client.received.length === 2);
    expect(client.received).toEqual(['pong', Buffer.from('AB')]);
    await closeClient(client.socket);
    // Saved again, the entry keeps Chrome's form.
    await archive.save(join(dir, 'chrome-ws-again.har'));
    const again = JSON.parse(await readFile(join(dir, 'chrome-ws-again.har'), 'utf8')) as HarFile;
    expect(again.log.entries[0]!.request.url).toBe('wss://chat.test/socket');
    expect(again.log.entries[0]!._webSocketMessages).toEqual(chromeHar.log.entries[0]!._webSocketMessages);
  });

  it('validates _webSocketMessages when loading an archive, naming the bad value', async () => {
    const har = JSON.parse(await readFile(archiveFile, 'utf8')) as HarFile;
    const entry = har.log.entries[0]!;
    entry._webSocketMessages![0] = { type: 'receive', time: 1, opcode: 2, data: 'not base64!' };
    const bad = join(dir, 'bad.har');
    await writeFile(bad, JSON.stringify(har));
    await expect(Archive.load(bad)).rejects.toThrow(/_webSocketMessages\[0\]\.data .*base64/);
  });
});
