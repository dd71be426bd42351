// Hostile archives: loading is bounded (decompressed size, entries, one entry's size, nesting depth) and each
// refusal names the bound it passed, not "not valid JSON … truncated" or a stack overflow. The bombs are made here,
// small on disk: gzip members concatenated (gunzip reads them as one stream).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCli } from '../helpers/cli.js';
import { Archive, DEFAULT_ARCHIVE_LIMITS, formatBytes, type ArchiveLimits } from '../../lib/recall/index.js';

/** A gzip file whose content is `head`, then `filler` repeated `times`, then `tail`: tiny on disk. */
function bomb(head: string, filler: Buffer, times: number, tail = ''): Buffer {
  const member = gzipSync(filler);
  return Buffer.concat([gzipSync(head), ...Array<Buffer>(times).fill(member), gzipSync(tail)]);
}

const ENTRY = {
  startedDateTime: '2026-01-01T00:00:00.000Z',
  time: 1,
  request: { method: 'GET', url: 'http://a.test/', httpVersion: 'HTTP/1.1', headers: [] },
  response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], content: { size: 1, mimeType: 'text/plain', text: 'x' } },
};

describe('hostile archives', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-limits-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function loadError(name: string, content: Buffer | string, limits?: Partial<ArchiveLimits>) {
    const file = join(dir, name);
    await writeFile(file, content);
    const error = await Archive.load(file, { limits }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(error, `${name} loaded`).toBeDefined();
    return error!;
  }

  it('a gzip bomb is refused as one, at the bound, without inflating the rest', async () => {
    const mib = Buffer.alloc(1 << 20, ' ');
    // 1 GiB of whitespace inside a valid start: only the decompressed size can stop it.
    const file = bomb('{"log": ', mib, 1024, '}');
    expect(file.length).toBeLessThan(2 << 20);
    const error = await loadError('bomb.har.gz', file, { maxArchiveBytes: 64 << 20 });
    expect(error.code).toBe('ERR_ARCHIVE_LIMIT');
    expect(error.message).toBe(
      `${join(dir, 'bomb.har.gz')}: the archive decompresses past 64 MiB (a gzip bomb, or a recording too large to load); split the recording, or raise maxArchiveBytes`,
    );
    expect(error.message).not.toContain('not valid JSON');
    // By default the bound is 4 GiB (a bomb that big takes ~30 s to reach it, too long for this suite).
    expect(DEFAULT_ARCHIVE_LIMITS.maxArchiveBytes).toBe(4 * 2 ** 30);
    expect(formatBytes(DEFAULT_ARCHIVE_LIMITS.maxArchiveBytes)).toBe('4 GiB');
    // A bomb of zeros is not JSON from its first byte: refused at once, by what it is.
    const zeros = await loadError('zeros.har.gz', bomb('', Buffer.alloc(1 << 20), 1024));
    expect(zeros.code).toBe('ERR_ARCHIVE_PARSE');
    expect(zeros.message).toContain('not a HAR archive: byte 0 is "\\u0000"');
  });

  it('a valid HAR with a 700 MB body is refused for its size, naming the entry (default bound)', async () => {
    const head = `{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[${JSON.stringify(ENTRY).replace('"text":"x"}', '"text":"')}`;
    const file = bomb(head, Buffer.alloc(1 << 20, 'A'), 700, '"}}}]}}');
    const error = await loadError('big-body.har.gz', file);
    expect(error.code).toBe('ERR_ARCHIVE_LIMIT');
    expect(error.message).toBe(
      `${join(dir, 'big-body.har.gz')}: log.entries[0] (http://a.test/) takes more than 256 MiB of JSON, the limit for one entry (its body is too large to play back); leave that response out of the recording, or raise maxEntryBytes`,
    );
  });

  it('100,000-deep nesting gives a coded error, no stack overflow, in load and in `recall export`', async () => {
    const deep = `{"log":{"version":"1.2","entries":[{"_x":${'['.repeat(100_000)}${']'.repeat(100_000)}}]}}`;
    const error = await loadError('deep.har', deep);
    expect(error.code).toBe('ERR_ARCHIVE_LIMIT');
    expect(error.message).toContain('arrays and objects nest deeper than 1000 levels (at byte 1037)');
    const exported = await runCli('recall', ['export', join(dir, 'deep.har'), join(dir, 'out.har')]);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toMatch(/^recall: .*nest deeper than 1000 levels.* \[ERR_ARCHIVE_LIMIT\]\n$/);
    expect(exported.stderr).not.toContain('call stack');
  });

  it('more entries than allowed are refused by count', async () => {
    const entries = Array(11).fill(JSON.stringify(ENTRY)).join(',');
    const error = await loadError('many.har', `{"log":{"version":"1.2","entries":[${entries}]}}`, { maxEntries: 10 });
    expect(error.code).toBe('ERR_ARCHIVE_LIMIT');
    expect(error.message).toContain('log.entries has more than 10 entries; split the recording, or raise maxEntries');
    expect((await Archive.load(join(dir, 'many.har'), { limits: { maxEntries: 11 } })).size).toBe(11);
  });

  it('limits themselves are checked', async () => {
    await expect(Archive.load(join(dir, 'many.har'), { limits: { maxDepth: 0 } })).rejects.toMatchObject({
      code: 'ERR_RECALL_INVALID_OPTION',
      message: 'Expected maxDepth to be a positive integer, got 0',
    });
  });
});
