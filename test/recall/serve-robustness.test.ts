// `recall serve` as users start it (bin/recall.js from dist/), under the faults of issue 12: a SIGTERM while a
// request is in flight (it finishes and is saved), and 1,000 idle connections from one source under a
// 1024-descriptor limit (other sources are still served).
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive } from '../../lib/recall/index.js';
import { startRecallServe as serve } from '../helpers/recall-serve.js';
import { curl, startOrigin, type Origin } from './http-fixtures.js';


async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

/** Opens `count` idle TCP connections to `port`; resolves when each has connected or been closed. */
async function idleConnections(port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  await Promise.all(
    Array.from({ length: count }, () => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      sockets.push(socket);
      socket.on('error', () => undefined);
      return new Promise<void>((resolve) => {
        socket.once('connect', () => resolve());
        socket.once('close', () => resolve());
      });
    }),
  );
  return sockets;
}

describe('recall serve under faults', () => {
  let dir: string;
  let origin: Origin;
  let slowSeen = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-serve-faults-'));
    origin = await startOrigin((req, res) => {
      if (req.url === '/slow') {
        slowSeen += 1;
        setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end('slow but complete');
        }, 1500);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`page ${req.url}`);
    });
  });

  afterAll(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('finishes a request in flight at SIGTERM and saves it in the archive', async () => {
    const file = join(dir, 'sigterm.har');
    const served = await serve(['--mode', 'record', '--archive', file, '--allow-local-upstreams']);
    try {
      const base = `http://127.0.0.1:${origin.port}`;
      expect((await curl(`${base}/before`, served.ports.http)).status).toBe(200);
      const inFlight = curl(`${base}/slow`, served.ports.http);
      await until(() => slowSeen === 1, 'the origin to receive /slow');
      served.child.kill('SIGTERM');
      await until(() => served.output().includes('stopping'), 'serve to start stopping');
      served.child.kill('SIGINT'); // an impatient second signal does not cut the drain or the save
      const answered = await inFlight;
      expect(answered.status).toBe(200);
      expect(answered.body.toString()).toBe('slow but complete');
      expect(await served.exited).toBe(0);
      expect(served.output()).toContain('still stopping');
      const urls = (await Archive.load(file)).exchanges.map((e) => e.request.target);
      expect(urls.sort()).toEqual(['/before', '/slow']);
    } finally {
      served.child.kill('SIGKILL');
    }
  });

  it('runs with its open-file limit raised from the soft to the hard value', async () => {
    const served = await serve(
      ['--mode', 'proxy', '--ca-dir', join(dir, 'ca-limit')],
      ['prlimit', '--nofile=512:4096'],
    );
    try {
      expect(served.output()).toMatch(/^files 4096 open files allowed$/m);
    } finally {
      served.child.kill('SIGKILL');
      await served.exited;
    }
  });

  it('keeps serving other sources while one source holds 1,000 idle connections, under 1024 descriptors', async () => {
    const file = join(dir, 'idle.har');
    // Soft and hard limit 1024: nothing to raise, so only the per-source caps keep the servers answering.
    const served = await serve(['--mode', 'record', '--archive', file], ['prlimit', '--nofile=1024:1024']);
    const held: net.Socket[] = [];
    try {
      held.push(...(await idleConnections(served.ports.http, 1000)));
      held.push(...(await idleConnections(served.ports.https, 1000)));
      await new Promise((r) => setTimeout(r, 200)); // let the servers refuse what is over the cap
      const stillOpen = held.filter((s) => !s.destroyed && s.readyState === 'open').length;
      expect(stillOpen).toBeLessThanOrEqual(2 * 256);
      const other = ['--interface', '127.0.0.2'];
      const viaHttp = await curl('http://recall.test/_recall/ca.pem', served.ports.http, other);
      expect(viaHttp.status).toBe(200);
      const viaHttps = await curl('https://recall.test/_recall/ca.pem', served.ports.https, [
        ...other,
        '--cacert',
        served.caFile,
      ]);
      expect(viaHttps.status).toBe(200);
      expect(viaHttps.body.toString()).toContain('BEGIN CERTIFICATE');
    } finally {
      for (const socket of held) socket.destroy();
      served.child.kill('SIGKILL');
      await served.exited;
    }
  });
});
