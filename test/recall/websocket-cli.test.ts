// `recall serve` records and replays WebSocket as a real process (bin/recall.js on the built dist/): a `ws` origin
// on loopback recorded with a connection still open at SIGINT (its frames are saved), then replayed with the origin
// stopped; a client that strays from the recording gets a WEBSOCKET MISMATCH line in the summary at SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Archive } from '../../lib/recall/index.js';
import { startRecallServe as serve } from '../helpers/recall-serve.js';
import {
  closeClient,
  connectThroughRecall,
  startWsOrigin,
  until,
  type WsOrigin,
} from './websocket-fixtures.js';

describe('recall serve with WebSocket', () => {
  let dir: string;
  let origin: WsOrigin;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-ws-cli-'));
    origin = await startWsOrigin();
  });

  afterAll(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records a connection still open at SIGINT, then replays it with the origin stopped', async () => {
    const archiveFile = join(dir, 'ws.har.gz');
    const url = `ws://127.0.0.1:${origin.port}/live`;
    const common = ['--archive', archiveFile, '--ca-dir', join(dir, 'ca')];
    const recording = await serve(['--mode', 'record', '--allow-local-upstreams', ...common]);
    try {
      const client = await connectThroughRecall({ url, recallPort: recording.ports.http });
      await until(() => client.received.length === 1);
      client.socket.send('hi');
      await until(() => client.received.length === 2);
      expect(client.received).toEqual(['welcome', 'echo:hi']);
    } finally {
      recording.child.kill('SIGINT');
    }
    expect(await recording.exited).toBe(0);
    const archive = await Archive.load(archiveFile);
    expect(archive.exchanges.map((e) => e.webSocketMessages?.map((m) => `${m.type} ${m.data}`))).toEqual([
      ['receive welcome', 'send hi', 'receive echo:hi'],
    ]);

    await origin.close();
    const replaying = await serve(['--mode', 'replay', ...common]);
    try {
      const good = await connectThroughRecall({ url, recallPort: replaying.ports.http });
      await until(() => good.received.length === 1);
      good.socket.send('hi');
      await until(() => good.received.length === 2);
      expect(good.received).toEqual(['welcome', 'echo:hi']);
      await closeClient(good.socket);
      const stray = await connectThroughRecall({ url, recallPort: replaying.ports.http });
      stray.socket.send('bye');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await closeClient(stray.socket);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      replaying.child.kill('SIGTERM');
    }
    expect(await replaying.exited).toBe(0);
    expect(replaying.output()).toContain(
      `WEBSOCKET MISMATCH ${url}: 1 client frame(s) not in the recording (first: "bye"); 1 recorded client frame(s) never sent (first: "hi")`,
    );
  }, 120_000);
});
