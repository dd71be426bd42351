// The lab internet's WebSocket site, ticker.lab.test, through Recall inside the lab: a script in the server
// namespace (where the lab DNS and the internet's addresses are reachable) records a Node `ws` client's wss://
// conversation with the real site through Recall's HTTPS server (upstream TLS verified with the lab public CA),
// then plays it back from the saved archive with a playback server that has no upstream at all.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';

const SCRIPT = `
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const root = process.argv[2];
const dir = process.argv[3];
const { Archive, CertificateAuthority, HTTPClient, HTTPSServer, PlaybackHTTPClient, WebSocketRecorder } = await import(join(root, 'dist/lib/recall/index.js'));
const { default: WebSocket } = await import(join(root, 'node_modules/ws/index.js'));
const ca = await CertificateAuthority.open('/O=Recall Lab WS', { dir: join(dir, 'ca') });

async function converse(port) {
  const socket = new WebSocket('wss://127.0.0.1:' + port + '/feed', { headers: { Host: 'ticker.lab.test' }, servername: 'ticker.lab.test', ca: ca.rootCertificatePem });
  const received = [];
  socket.on('message', (data, isBinary) => {
    received.push(isBinary ? 'bytes:' + [...data].join(',') : data.toString());
    if (received.length === 1) socket.send('hi');
    if (received.length === 2) socket.send(Buffer.from([1, 2, 3]), { binary: true });
    if (received.length === 3) socket.send(JSON.stringify({ op: 'sub' }));
    if (received.length === 7) socket.close(1000);
  });
  await new Promise((resolve, reject) => { socket.on('close', resolve); socket.on('error', reject); setTimeout(() => reject(new Error('timed out with ' + JSON.stringify(received))), 20000); });
  return received;
}

const archive = Archive.create();
const webSocket = new WebSocketRecorder({ archive, extraCAs: [readFileSync(process.env.LAB_PUBLIC_CA, 'utf8')] });
const recording = new HTTPSServer({ exchanger: new HTTPClient(), certificates: ca, webSocket });
const recorded = await converse((await recording.listen()).port);
await recording.close();
await archive.save(join(dir, 'ticker.har'));

const loaded = await Archive.load(join(dir, 'ticker.har'));
const playback = new PlaybackHTTPClient(loaded);
const replaying = new HTTPSServer({ exchanger: playback, certificates: ca });
const replayed = await converse((await replaying.listen()).port);
await replaying.close();
await ca.close();
console.log(JSON.stringify({ recorded, replayed, url: loaded.exchanges[0]?.request.host, misses: playback.missCount }));
`;

describe.skipIf(!isRoot)('the lab WebSocket site through Recall (needs root)', () => {
  const lab = useLab({ devices: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'recall-ws-lab-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records wss://ticker.lab.test/feed from the lab internet and replays it from the archive', async () => {
    const script = join(dir, 'ticker.mjs');
    writeFileSync(script, SCRIPT);
    const result = await lab.lab().run([process.execPath, script, repoRoot, dir]);
    expect(result.exitCode, result.stderr).toBe(0);
    const { recorded, replayed, url, misses } = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<
      string,
      unknown
    >;
    const expected = [
      'welcome',
      'echo:hi',
      'bytes:3,2,1',
      '{"ok":true,"op":"sub"}',
      '{"tick":1}',
      '{"tick":2}',
      '{"tick":3}',
    ];
    expect({ recorded, replayed, url, misses }).toEqual({
      recorded: expected,
      replayed: expected,
      url: 'ticker.lab.test',
      misses: 0,
    });
  }, 180_000);
});
