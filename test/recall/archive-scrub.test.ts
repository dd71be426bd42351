// Archives keep no credentials by default: Authorization, Proxy-Authorization and Cookie values are stored as
// [scrubbed] (the live exchange is untouched), `scrub: 'none'` / `--scrub none` keeps them, archives are written
// 0600, and playback matches whatever token a request carries, with scrubbed and unscrubbed archives alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startCli } from '../helpers/cli.js';
import { startOrigin, loopbackLookup, type Origin } from './http-fixtures.js';
import {
  Archive,
  DNSClient,
  HTTPClient,
  PlaybackHTTPClient,
  recordingClients,
  SCRUBBED,
  type RecordedRequest,
  type ScrubMode,
} from '../../lib/recall/index.js';

function request(host: string, token: string): RecordedRequest {
  return {
    method: 'GET',
    scheme: 'http',
    host,
    target: '/me',
    httpVersion: '1.1',
    headers: [
      ['Host', host],
      ['Authorization', `Bearer ${token}`],
      ['Proxy-Authorization', `Basic ${token}`],
      ['Cookie', `session=${token}`],
    ],
    body: Buffer.alloc(0),
  };
}

async function text(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

describe('scrubbing by default', () => {
  let dir: string;
  let origin: Origin;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-scrub-'));
    origin = await startOrigin((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Set-Cookie': 'theme=dark' });
      res.end(req.headers.authorization === 'Bearer s3cret-token' ? 'authorized' : 'anonymous');
    });
  });
  afterAll(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function record(scrub: ScrubMode | undefined, file: string): Promise<string> {
    const archive = Archive.create();
    const clients = recordingClients(
      archive,
      { dns: new DNSClient({ servers: [{ host: '127.0.0.1', port: 9 }] }), http: new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true }) },
      scrub ? { scrub } : {},
    );
    const live = await clients.http.exchange(request(`api.test:${origin.port}`, 's3cret-token'));
    // The origin saw the real credentials, whatever is stored.
    expect(await text(live.body)).toBe('authorized');
    await clients.http.close();
    await archive.save(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    return gunzipSync(await readFile(file)).toString();
  }

  it('stores Authorization, Proxy-Authorization and Cookie values as [scrubbed] unless told not to', async () => {
    const scrubbed = await record(undefined, join(dir, 'default.har.gz'));
    expect(scrubbed).not.toContain('s3cret-token');
    expect(scrubbed.match(new RegExp(`"value": "\\${SCRUBBED.slice(0, -1)}\\]"`, 'g'))).toHaveLength(3);
    expect(scrubbed).toContain('theme=dark'); // Set-Cookie stays: pages may read their own cookies
    const all = await record('all', join(dir, 'all.har.gz'));
    expect(all).not.toContain('s3cret-token');
    expect(all).not.toContain('theme=dark');
    const clear = await record('none', join(dir, 'clear.har.gz'));
    expect(clear).toContain('Bearer s3cret-token');
  });

  it('plays back scrubbed and unscrubbed archives to requests carrying any token', async () => {
    for (const name of ['default.har.gz', 'clear.har.gz']) {
      const playback = new PlaybackHTTPClient(await Archive.load(join(dir, name)));
      const replay = await playback.exchange(request(`api.test:${origin.port}`, 'another-token'));
      expect(replay.status, name).toBe(200);
      expect(await text(replay.body), name).toBe('authorized');
    }
  });

  it('`recall serve --mode record` scrubs by default and keeps credentials with --scrub none', async () => {
    for (const [flags, kept] of [[[], false], [['--scrub', 'none'], true]] as const) {
      const file = join(dir, `served-${kept}.har`);
      const served = startCli('recall', ['serve', '--mode', 'record', '--archive', file, '--ca-dir', join(dir, 'ca'), '--allow-local-upstreams', ...flags]);
      for (let i = 0; i < 3000 && !served.output().includes('ready'); i++) await new Promise((r) => setTimeout(r, 10));
      const port = Number(/^http\s+[^\s]+:(\d+)/m.exec(served.output())![1]);
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/me', headers: { Host: `127.0.0.1:${origin.port}`, Authorization: 'Bearer cli-secret' } }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
      served.child.kill('SIGINT');
      await served.done;
      const saved = await readFile(file, 'utf8');
      expect(saved.includes('cli-secret'), flags.join(' ')).toBe(kept);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    }
  });
});
