// Archives stream in and out: the file on disk is exactly the pretty JSON it always was, loading splits it into
// entries however the bytes arrive, and neither direction builds one string of the whole file, so a recording past
// 512 MiB of JSON saves and loads, and `recall export` handles a 1,000,000-entry archive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { runCli } from '../helpers/cli.js';
import { Archive, archiveLimits, type RecordedExchange } from '../../lib/recall/index.js';
import { HarSplitter } from '../../lib/recall/archive/har-splitter.js';

function exchange(target: string, body: Buffer | string, status = 200): RecordedExchange {
  return {
    startedDateTime: '2026-01-02T03:04:05.006Z',
    timeMs: 3,
    request: { method: 'GET', scheme: 'https', host: 'big.test', target, httpVersion: '1.1', headers: [['Host', 'big.test']], body: Buffer.alloc(0) },
    response: { status, statusText: 'OK', httpVersion: '1.1', headers: [['Content-Type', 'text/plain']], body: Buffer.from(body) },
  };
}

/** Strings that stress a splitter: quotes, runs of backslashes, brackets, non-ASCII. */
const NASTY = ['"', '\\', '\\\\', '\\"', '{', '}', '[', ']', ',', ':', 'é', '✓', '\u2028', ' ', 'a', '😀', '"entries":['];

function nasty(random: () => number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += NASTY[Math.floor(random() * NASTY.length)];
  return text;
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('streamed archives', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-stream-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('splits a document into the same entries as JSON.parse, whatever the chunk boundaries and key order', () => {
    const random = seeded(7);
    for (let round = 0; round < 200; round++) {
      const entries = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, i) => ({
        [nasty(random, 3)]: nasty(random, 20),
        request: { url: `https://x.test/${i}`, nested: [[{ entries: [nasty(random, 5)] }]] },
      }));
      const log: Record<string, unknown> = { version: '1.2' };
      // Keys in varying order, `entries` elsewhere too, and a key that needs escapes.
      if (random() < 0.5) log._recall = { dns: [{ entries: [1, 2] }], note: nasty(random, 10) };
      log.entries = entries;
      if (random() < 0.5) log['"odd\\key'] = { entries: ['not these'] };
      const document = random() < 0.5 ? { before: nasty(random, 8), log } : { log, after: [nasty(random, 8)] };
      const text = JSON.stringify(document, null, random() < 0.5 ? 2 : undefined);
      const bytes = Buffer.from(`${round % 5 === 0 ? '\ufeff' : ''}${text}`, 'utf8');
      const seen: unknown[] = [];
      const splitter = new HarSplitter('fuzz.har', archiveLimits(), (value) => seen.push(value));
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 3 : 64));
        splitter.write(bytes.subarray(at, at + size));
        at += size;
      }
      const rest = splitter.end() as { log: Record<string, unknown> };
      expect(seen, `round ${round}: ${text}`).toEqual(entries);
      expect(rest, `round ${round}`).toEqual(JSON.parse(JSON.stringify({ ...document, log: { ...log, entries: [] } })));
    }
  });

  it('writes exactly the pretty JSON of the whole document, mode 0600', async () => {
    const archive = Archive.create({ randomSeed: 3, startedDateTime: new Date(0) });
    for (const [i, body] of ['a', 'é"\\', '\u2028x'].entries()) await archive.add(exchange(`/${i}`, body));
    archive.setDnsAnswers([{ name: 'big.test', type: 'A', ttl: 5, data: ['192.0.2.9'] }]);
    const file = join(dir, 'small.har');
    await writeFile(file, 'an older, readable archive');
    await archive.save(file);
    expect(await readFile(file, 'utf8')).toBe(`${JSON.stringify(archive.toHar(), null, 2)}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const empty = join(dir, 'empty.har');
    await Archive.create({ randomSeed: 3, startedDateTime: new Date(0) }).save(empty);
    expect(await readFile(empty, 'utf8')).toBe(`${JSON.stringify(Archive.create({ randomSeed: 3, startedDateTime: new Date(0) }).toHar(), null, 2)}\n`);
  });

  it('a save that cannot be written fails with a code and the file name', async () => {
    const file = join(dir, 'no-such-folder', 'a.har');
    await expect(Archive.create().save(file)).rejects.toMatchObject({
      code: 'ERR_ARCHIVE_WRITE',
      message: `${file}: cannot write the archive (ENOENT); check the folder exists, is writable and has space`,
    });
  });

  it('a body too large for one entry fails the save with a code naming it, and the file on disk stays whole', async () => {
    const file = join(dir, 'kept.har');
    const archive = Archive.create();
    await archive.add(exchange('/small', 'ok'));
    await archive.save(file);
    await archive.add(exchange('/huge', Buffer.alloc(400 * 2 ** 20, 0xff)));
    const error = (await archive.save(file).catch((e: unknown) => e)) as { code: string; message: string };
    expect(error.code).toBe('ERR_ARCHIVE_WRITE');
    expect(error.message).toContain(`${file}: cannot write entry 0 (GET https://big.test/huge): `);
    expect((await Archive.load(file)).exchanges.map((e) => e.request.target)).toEqual(['/small']);
  }, 300_000);

  it('saves and loads a recording past 512 MiB of JSON', async () => {
    const archive = Archive.create();
    const body = Buffer.alloc(1 << 20, 'x');
    for (let i = 0; i < 530; i++) await archive.add(exchange(`/page/${i}`, body));
    const file = join(dir, 'large.har');
    await archive.save(file);
    expect((await stat(file)).size).toBeGreaterThan(2 ** 29);
    const loaded = await Archive.load(file);
    expect(loaded.size).toBe(530);
    expect(loaded.exchanges[529]!.response.body.equals(body)).toBe(true);
  }, 300_000);

  it('`recall export` copies a 1,000,000-entry archive', async () => {
    const input = join(dir, 'million.har.gz');
    const entry = (i: number) =>
      `{"startedDateTime":"2026-01-01T00:00:00.000Z","time":1,"request":{"method":"GET","url":"http://m.test/${i}","httpVersion":"HTTP/1.1","headers":[]},"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],"content":{"size":2,"mimeType":"text/plain","text":"ok"}}}`;
    await pipeline(
      (function* () {
        yield '{"log":{"version":"1.2","creator":{"name":"test","version":"1"},"entries":[';
        for (let i = 0; i < 1_000_000; i += 1000) {
          yield `${i > 0 ? ',' : ''}${Array.from({ length: 1000 }, (_, j) => entry(i + j)).join(',')}`;
        }
        yield ']}}';
      })(),
      createGzip({ level: 1 }),
      createWriteStream(input),
    );
    const output = join(dir, 'million-out.har.gz');
    const exported = await runCli('recall', ['export', input, output, '--path', '/']);
    expect(exported.stderr).toBe('');
    expect(exported.stdout).toBe(`wrote 1000000 exchanges to ${output}\n`);
    const stats = await runCli('recall', ['stats', output, '--json']);
    expect(JSON.parse(stats.stdout).entries).toBe(1_000_000);
  }, 600_000); // about 30 s on a quiet machine, several times that on a busy one
});
