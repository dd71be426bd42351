// The archive file: HAR 1.2 with `_recall` fields, byte-exact bodies, deterministic order, atomic gzip writes,
// and loud, precise errors for damaged or foreign files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Archive, RecallError, type RecordedExchange } from '../../lib/recall/index.js';

function exchange(
  target: string,
  body: Buffer | string,
  headers: Array<[string, string]> = [],
  method = 'GET',
): RecordedExchange {
  return {
    startedDateTime: '2026-01-02T03:04:05.006Z',
    timeMs: 12.5,
    request: {
      method,
      scheme: 'https',
      host: 'example.test',
      target,
      httpVersion: '1.1',
      headers: [
        ['Host', 'example.test'],
        ['X-Mixed-Case', 'a'],
      ],
      body: Buffer.alloc(0),
    },
    response: { status: 200, statusText: 'OK', httpVersion: '1.1', headers, body: Buffer.from(body) },
  };
}

async function loadError(
  dir: string,
  name: string,
  content: string | Buffer,
): Promise<{ code: string; message: string }> {
  const file = join(dir, name);
  await writeFile(file, content);
  try {
    await Archive.load(file);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected Archive.load to fail');
}

describe('Archive', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-archive-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips bodies byte for byte: text as text, binary as base64, content-encoded decoded with the wire bytes beside', async () => {
    const binary = Buffer.from([0, 255, 128, 10, 13, 0xc3]);
    const gz = gzipSync('hello');
    const archive = Archive.create({ randomSeed: 7, startedDateTime: new Date('2026-01-01T00:00:00Z') });
    archive.add(
      exchange('/text', '\ufeffhéllo ✓', [
        ['Content-Type', 'text/plain'],
        ['set-cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
      ]),
    );
    archive.add(exchange('/bin', binary));
    archive.add(exchange('/gz', gz, [['Content-Encoding', 'gzip']]));
    const post = exchange('/post', 'ok', [], 'POST');
    post.request.body = Buffer.from([1, 2, 3, 250]);
    archive.add(post);
    archive.setDnsAnswers([{ name: 'example.test', type: 'A', ttl: 60, data: ['192.0.2.1'] }]);
    const file = join(dir, 'round.har.gz');
    await archive.save(file);
    const har = JSON.parse(gunzipSync(await readFile(file)).toString());
    expect(har.log.version).toBe('1.2');
    expect(har.log._recall).toEqual({
      version: 2,
      startedDateTime: '2026-01-01T00:00:00.000Z',
      randomSeed: 7,
      dns: [{ name: 'example.test', type: 'A', ttl: 60, data: ['192.0.2.1'] }],
    });
    const byUrl = Object.fromEntries(
      har.log.entries.map((e: { request: { url: string } }) => [e.request.url, e]),
    );
    expect(byUrl['https://example.test/text'].response.content).toMatchObject({ text: '\ufeffhéllo ✓' });
    expect(byUrl['https://example.test/text'].response.content.encoding).toBeUndefined();
    expect(byUrl['https://example.test/bin'].response.content).toMatchObject({
      encoding: 'base64',
      text: binary.toString('base64'),
    });
    expect(byUrl['https://example.test/gz'].response.content).toEqual({
      size: 5,
      mimeType: 'x-unknown',
      text: 'hello',
      _recall: { wire: gz.toString('base64') },
    });
    expect(byUrl['https://example.test/post'].request.postData).toMatchObject({ _encoding: 'base64' });
    const loaded = await Archive.load(file);
    const find = (t: string) => loaded.exchanges.find((e) => e.request.target === t)!;
    expect(find('/text').response.body).toEqual(Buffer.from('\ufeffhéllo ✓'));
    expect(find('/text').response.headers).toEqual([
      ['Content-Type', 'text/plain'],
      ['set-cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ]);
    expect(find('/text').request.headers).toEqual([
      ['Host', 'example.test'],
      ['X-Mixed-Case', 'a'],
    ]);
    expect(find('/bin').response.body).toEqual(binary);
    expect(find('/gz').response.body).toEqual(gz);
    expect(find('/post').request.body).toEqual(Buffer.from([1, 2, 3, 250]));
    expect(loaded.recall.randomSeed).toBe(7);
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('writes the same file for the same exchanges in any completion order, keeping the order of repeats', async () => {
    const a = exchange('/a', '1');
    const b1 = exchange('/b', 'first');
    const b2 = exchange('/b', 'second');
    const one = Archive.create({ randomSeed: 1, startedDateTime: new Date(0) });
    [b1, a, b2].forEach((e) => one.add(e));
    const two = Archive.create({ randomSeed: 1, startedDateTime: new Date(0) });
    [a, b1, b2].forEach((e) => two.add(e));
    expect((await one.serialize(false)).toString()).toBe((await two.serialize(false)).toString());
    const bodies = one.toHar().log.entries.map((e) => e.response.content.text);
    expect(bodies).toEqual(['1', 'first', 'second']);
  });

  it('accepts a browser HAR without _recall fields', async () => {
    const har = (await Archive.create().serialize(false)).toString();
    const plain = JSON.parse(har);
    delete plain.log._recall;
    const loaded = Archive.fromHar(plain, 'browser.har');
    expect(loaded.recall.version).toBe(2);
  });

  it('refuses damaged files with the file name and what to do', async () => {
    const good = (
      await (() => {
        const archive = Archive.create();
        archive.add(exchange('/x', 'y'));
        return archive.serialize(false);
      })()
    ).toString();
    const truncatedJson = await loadError(dir, 'cut.har', good.slice(0, good.length / 2));
    expect(truncatedJson.code).toBe('ERR_ARCHIVE_PARSE');
    expect(truncatedJson.message).toMatch(/cut\.har: not valid JSON .*re-record/);
    const gz = gzipSync(good);
    const truncatedGzip = await loadError(dir, 'cut.har.gz', gz.subarray(0, gz.length - 20));
    expect(truncatedGzip.code).toBe('ERR_ARCHIVE_PARSE');
    expect(truncatedGzip.message).toMatch(/cut\.har\.gz: the gzip data is damaged or truncated/);
    expect((await loadError(dir, 'plain.har.gz', good)).code).toBe('ERR_ARCHIVE_PARSE');
    const missing = (await Archive.load(join(dir, 'nope.har')).catch((e: unknown) => e)) as {
      code: string;
      message: string;
    };
    expect(missing.code).toBe('ERR_ARCHIVE_READ');
    expect(missing.message).toContain('ENOENT');
  });

  it('names the JSON path of an invalid value', async () => {
    const har = JSON.parse(
      (
        await (() => {
          const archive = Archive.create();
          archive.add(exchange('/x', 'y'));
          archive.add(exchange('/z', Buffer.from([255])));
          return archive.serialize(false);
        })()
      ).toString(),
    );
    const bad = structuredClone(har);
    bad.log.entries[1].response.status = '200';
    const status = await loadError(dir, 'status.har', JSON.stringify(bad));
    expect(status.code).toBe('ERR_ARCHIVE_INVALID');
    expect(status.message).toBe(
      `${join(dir, 'status.har')}: log.entries[1].response.status is the string "200", expected a finite number; fix that value or re-record the archive`,
    );
    const badBase64 = structuredClone(har);
    badBase64.log.entries[1].response.content.text = '!!!';
    expect((await loadError(dir, 'b64.har', JSON.stringify(badBase64))).message).toContain(
      'log.entries[1].response.content.text',
    );
    const badUrl = structuredClone(har);
    badUrl.log.entries[0].request.url = 'http://x/a\r\nX-Injected: 1';
    expect((await loadError(dir, 'url.har', JSON.stringify(badUrl))).message).toContain(
      'log.entries[0].request.url',
    );
    const badHeader = structuredClone(har);
    badHeader.log.entries[0].request.headers[1] = { name: 'X' };
    expect((await loadError(dir, 'hdr.har', JSON.stringify(badHeader))).message).toContain(
      'log.entries[0].request.headers[1].value is missing',
    );
    const newer = structuredClone(har);
    newer.log._recall.version = 99;
    const version = await loadError(dir, 'newer.har', JSON.stringify(newer));
    expect(version.code).toBe('ERR_ARCHIVE_VERSION');
    expect(version).toBeInstanceOf(RecallError);
    const notHar = await loadError(dir, 'array.har', '[]');
    expect(notHar.message).toContain('not a HAR archive: byte 0 is "[", not the { that opens a JSON object');
    expect(() => Archive.fromHar([], 'array.har')).toThrow('(root) is an array, expected an object');
  });
});
