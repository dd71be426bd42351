// Archives from other tools load with their odd entries skipped (one warning per kind, counted in `recall stats`),
// while what is not HAR, or what HTTP forbids (control characters in URLs and headers), is refused by JSON path;
// and `recall ls`, `show` and `stats` never print an archive's control characters raw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { runCli, startCli } from '../helpers/cli.js';
import { Archive, PlaybackHTTPClient, type RecordedRequest } from '../../lib/recall/index.js';

type Json = Record<string, unknown>;

function entry(url: string, options: { status?: number; content?: Json; postData?: Json; method?: string; headers?: Json[] } = {}): Json {
  return {
    startedDateTime: '2026-03-01T10:00:00.000Z',
    time: 12,
    request: {
      method: options.method ?? 'GET',
      url,
      httpVersion: 'http/2.0',
      headers: options.headers ?? [{ name: ':authority', value: new URL(url).host }, { name: 'accept', value: '*/*' }],
      queryString: [],
      cookies: [],
      headersSize: -1,
      bodySize: 0,
      ...(options.postData ? { postData: options.postData } : {}),
    },
    response: {
      status: options.status ?? 200,
      statusText: '',
      httpVersion: 'http/2.0',
      headers: [{ name: 'content-type', value: 'text/plain' }],
      cookies: [],
      content: options.content ?? { size: 5, mimeType: 'text/plain', text: 'hello' },
      redirectURL: '',
      headersSize: -1,
      bodySize: -1,
    },
    cache: {},
    timings: { send: 0, wait: 10, receive: 2 },
  };
}

function har(entries: Json[], version = '1.2'): string {
  return JSON.stringify({ log: { version, creator: { name: 'WebInspector', version: '537.36' }, pages: [], entries } }, null, 2);
}

const BROWSER_EXPORT = [
  entry('https://site.test/'),
  entry('https://ads.test/blocked.js', { status: 0, content: { size: 0, mimeType: 'x-unknown' } }),
  entry('https://ads.test/failed.png', { status: 0, content: { size: 0, mimeType: 'x-unknown' } }),
  entry('https://site.test/image.png', { content: { size: 4096, mimeType: 'image/png' } }),
  entry('https://site.test/cached', { status: 304, content: { size: 120, mimeType: 'text/html' } }),
  entry('https://site.test/form', {
    method: 'POST',
    postData: { mimeType: 'application/x-www-form-urlencoded', params: [{ name: 'a', value: '1' }, { name: 'b', value: 'x y' }] },
  }),
  entry('https://site.test/upload', {
    method: 'POST',
    postData: { mimeType: 'multipart/form-data; boundary=x', params: [{ name: 'f', fileName: 'a.txt', value: 'data' }] },
  }),
  entry('wss://site.test/socket', { status: 101 }),
];

function request(url: string, method = 'GET', body = ''): RecordedRequest {
  const { host, pathname } = new URL(url);
  return { method, scheme: 'https', host, target: pathname, httpVersion: '1.1', headers: [['Host', host]], body: Buffer.from(body) };
}

describe('archives from other tools', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-lenient-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a browser export with a BOM and log.version 1.1, skipping what cannot be played back with one warning per kind', async () => {
    const file = join(dir, 'chrome.har');
    await writeFile(file, `\ufeff${har(BROWSER_EXPORT, '1.1')}`);
    const warnings: string[] = [];
    const archive = await Archive.load(file, { onWarning: (m) => warnings.push(m) });
    expect(archive.exchanges.map((e) => `${e.request.method} ${e.request.target}`)).toEqual(['GET /', 'GET /cached', 'POST /form']);
    expect(archive.exchanges[1]!.response.body.length).toBe(0);
    expect(archive.exchanges[2]!.request.body.toString()).toBe('a=1&b=x+y');
    expect(archive.skipped).toEqual({ 'status-0': 2, 'no-body': 1, 'post-params-only': 1, 'not-http': 1 });
    expect(warnings).toHaveLength(4);
    expect(warnings).toContain(
      `${file}: skipped 2 entries with status 0 (a request the browser blocked or that failed: there is no response to play back): log.entries[1] GET https://ads.test/blocked.js, log.entries[2] GET https://ads.test/failed.png`,
    );
    expect(warnings.find((w) => w.includes('no response body'))).toContain('log.entries[3] GET https://site.test/image.png');
    expect(warnings.find((w) => w.includes('postData.params'))).toContain('log.entries[6] POST https://site.test/upload');
    expect(warnings.find((w) => w.includes('not http://'))).toContain('log.entries[7] GET wss://site.test/socket');
    // What loaded plays back, the rebuilt form body included.
    const playback = new PlaybackHTTPClient(archive);
    expect((await playback.exchange(request('https://site.test/'))).status).toBe(200);
    expect((await playback.exchange(request('https://site.test/form', 'POST', 'a=1&b=x+y'))).status).toBe(200);
  });

  it('`recall stats` counts the skipped entries and warns once per kind on stderr', async () => {
    const file = join(dir, 'chrome.har');
    const stats = await runCli('recall', ['stats', file]);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toContain('entries 3, ');
    expect(stats.stdout).toContain('skipped entries 5');
    expect(stats.stdout).toContain('skip   status-0 2');
    expect(stats.stderr.trim().split('\n')).toHaveLength(4);
    expect(stats.stderr).toMatch(/^recall: warning: .*skipped 2 entries with status 0/m);
    const json = JSON.parse((await runCli('recall', ['stats', file, '--json'])).stdout);
    expect(json.skipped).toEqual({ 'status-0': 2, 'no-body': 1, 'post-params-only': 1, 'not-http': 1 });
  });

  it('refuses only what is not HAR at all', async () => {
    const notHar = join(dir, 'not-har.json');
    await writeFile(notHar, '{"hello": "world"}');
    await expect(Archive.load(notHar)).rejects.toMatchObject({ code: 'ERR_ARCHIVE_INVALID', message: expect.stringContaining('log is missing, expected an object') });
    const future = join(dir, 'future.har');
    await writeFile(future, har([entry('https://site.test/')], '2.0'));
    await expect(Archive.load(future)).rejects.toMatchObject({ message: expect.stringContaining('log.version is the string "2.0", expected a HAR 1.x version') });
  });

  it('refuses control characters HTTP forbids in URLs, header names and values, naming the JSON path', async () => {
    const cases: Array<[string, Json, string, string]> = [
      ['crlf-value', entry('https://a.test/', { headers: [{ name: 'X-A', value: 'evil\r\nX-Injected: 1' }] }), 'log.entries[0].request.headers[0].value', 'found "\\r", which HTTP forbids here'],
      ['nul-name', entry('https://a.test/', { headers: [{ name: 'X\u0000A', value: 'v' }] }), 'log.entries[0].request.headers[0].name', 'expected a header name'],
      ['esc-url', entry('https://a.test/\u001b[2J'), 'log.entries[0].request.url', 'found "\\u001b"'],
      ['lf-response-value', entry('https://a.test/'), 'log.entries[0].response.headers[0].value', 'found "\\n"'],
    ];
    (cases[3]![1].response as Json).headers = [{ name: 'Content-Type', value: 'text/html\nSet-Cookie: a=b' }];
    for (const [name, bad, path, why] of cases) {
      const file = join(dir, `${name}.har`);
      await writeFile(file, har([bad]));
      const error = (await Archive.load(file).catch((e: unknown) => e)) as { code: string; message: string };
      expect(error.code, name).toBe('ERR_ARCHIVE_INVALID');
      expect(error.message, name).toContain(`${file}: ${path} is the string`);
      expect(error.message, name).toContain(why);
    }
    // The refusal itself is printed escaped: JSON.stringify leaves C1 controls such as CSI (0x9b) raw.
    await writeFile(join(dir, 'c1.har'), har([entry('https://a.test/', { headers: [{ name: 'X\u009b2J', value: 'v' }] })]));
    const refused = await runCli('recall', ['ls', join(dir, 'c1.har')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('headers[0].name is the string "X\\x9b2J"');
    expect(refused.stderr).not.toContain('\u009b');
  });

  it('`recall ls`, `ls --dns`, `show` and `stats` print what HTTP allows but a terminal would act on escaped', async () => {
    const file = join(dir, 'escapes.har');
    const hostile = entry('https://a.test/page', {
      content: { size: 12, mimeType: 'text/plain', text: 'body\u001b[2J\u0007end' },
    });
    (hostile.response as Json).headers = [{ name: 'Content-Type', value: 'text/plain\u009b31m' }];
    (hostile.response as Json).statusText = 'OK\u202e';
    const document = JSON.parse(har([hostile]));
    document.log._recall = {
      version: 2,
      startedDateTime: '2026-03-01T10:00:00.000Z',
      randomSeed: 1,
      dns: [{ name: 'evil\u001b]0;pwned\u0007.test', type: 'A', ttl: 60, data: ['192.0.2.1'] }, { name: 'gone.test', type: 'A', ttl: 60, data: [], rcode: 'NXDOMAIN' }],
    };
    await writeFile(file, JSON.stringify(document));
    // eslint-disable-next-line no-control-regex -- looking for raw control characters is the point
    const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;
    const ls = await runCli('recall', ['ls', file]);
    expect(ls.stdout).toBe('200 GET https://a.test/page 12 text/plain\\x9b31m\n');
    const dns = await runCli('recall', ['ls', '--dns', file]);
    expect(dns.stdout).toBe('A evil\\x1b]0;pwned\\x07.test 60 192.0.2.1\nA gone.test 60 NXDOMAIN\n');
    const show = await runCli('recall', ['show', file]);
    expect(show.stdout).toContain('body\\x1b[2J\\x07end');
    expect(show.stdout).toContain('HTTP/2.0 200 OK\\u202e');
    const stats = await runCli('recall', ['stats', file]);
    for (const output of [ls.stdout, dns.stdout, show.stdout, stats.stdout]) expect(output).not.toMatch(raw);
    // A replay's MISS lines name what a device asked for: also escaped.
    const served = startCli('recall', ['serve', '--mode', 'replay', '--archive', file, '--ca-dir', join(dir, 'ca')]);
    for (let i = 0; i < 3000 && !served.output().includes('ready'); i++) await new Promise((r) => setTimeout(r, 10));
    const port = Number(/^http\s+[^\s]+:(\d+)/m.exec(served.output())![1]);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(Buffer.from('GET /x HTTP/1.1\r\nHost: a.test\u009b2J\r\nConnection: close\r\n\r\n', 'latin1')));
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1.1 404 /);
    served.child.kill('SIGTERM');
    const { stdout } = await served.done;
    expect(stdout).toMatch(/MISS GET http:\/\/a\.test\\x9b2j\/x /);
    expect(stdout).not.toMatch(raw);
  });
});
