// Matching rules: exact on method, scheme, host, path, query and body; volatile client headers ignored; user
// ignore rules; sequences of identical requests; miss explanations; symmetric scrubbing (rpcreplay's rule).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Archive,
  ArchivingHTTPClient,
  HTTPClient,
  PlaybackHTTPClient,
  RequestMatcher,
  SCRUBBED,
  type RecordedExchange,
  type RecordedRequest,
} from '../../lib/recall/index.js';
import { loopbackLookup, startOrigin, type Origin } from './http-fixtures.js';

function request(target: string, extra: Partial<RecordedRequest> = {}): RecordedRequest {
  return {
    method: 'GET',
    scheme: 'http',
    host: 'api.test',
    target,
    httpVersion: '1.1',
    headers: [['Host', 'api.test']],
    body: Buffer.alloc(0),
    ...extra,
  };
}

function recorded(req: RecordedRequest, body: string): RecordedExchange {
  return {
    startedDateTime: new Date(0).toISOString(),
    timeMs: 1,
    request: req,
    response: { status: 200, statusText: 'OK', httpVersion: '1.1', headers: [], body: Buffer.from(body) },
  };
}

const bodyOf = (e: RecordedExchange | undefined) => e?.response.body.toString();

describe('RequestMatcher', () => {
  it('ignores volatile client headers but not the others', () => {
    const matcher = new RequestMatcher([
      recorded(
        request('/a', {
          headers: [
            ['Host', 'api.test'],
            ['User-Agent', 'one'],
            ['Accept-Language', 'fr'],
            ['If-None-Match', '"x"'],
            ['Sec-Fetch-Mode', 'cors'],
            ['X-Api-Version', '2'],
          ],
        }),
        'a',
      ),
    ]);
    const volatile = request('/a', {
      host: 'API.test',
      headers: [
        ['user-agent', 'two'],
        ['Cookie', 'c=1'],
        ['Referer', 'http://x/'],
        ['Cache-Control', 'no-cache'],
        ['Upgrade-Insecure-Requests', '1'],
        ['X-Api-Version', '2'],
      ],
    });
    expect(bodyOf(matcher.match(volatile))).toBe('a');
    const other = request('/a', { headers: [['X-Api-Version', '3']] });
    expect(matcher.match(other)).toBeUndefined();
    expect(matcher.nearest(other)?.differences).toEqual([
      { field: 'headers', recorded: 'x-api-version: 2', received: 'x-api-version: 3' },
    ]);
  });

  it('ignores HTTP/2 pseudo-headers and browser-volatile headers from a browser HAR (issue 17.2)', () => {
    // What Chrome's HAR export lists for an HTTP/2 request: pseudo-headers first, Alt-Used from Firefox.
    const fromChrome = request('/app.js', {
      headers: [
        [':authority', 'api.test'],
        [':method', 'GET'],
        [':path', '/app.js'],
        [':scheme', 'http'],
        ['alt-used', 'api.test'],
        ['purpose', 'prefetch'],
        ['x-api-version', '2'],
      ],
    });
    const matcher = new RequestMatcher([recorded(fromChrome, 'js')]);
    const device = request('/app.js', { headers: [['Host', 'api.test'], ['X-Api-Version', '2']] });
    expect(bodyOf(matcher.match(device))).toBe('js');
    expect(matcher.keyOf(fromChrome).headers).toBe('x-api-version: 2');
  });

  it('is exact on method, scheme, host, path, query and body', () => {
    const base = request('/p?q=1', { method: 'POST', body: Buffer.from('{"a":1}') });
    const matcher = new RequestMatcher([recorded(base, 'hit')]);
    expect(bodyOf(matcher.match({ ...base }))).toBe('hit');
    for (const [change, field] of [
      [{ method: 'PUT' }, 'method'],
      [{ scheme: 'https' as const }, 'scheme'],
      [{ host: 'api.test:8080' }, 'host'],
      [{ target: '/P?q=1' }, 'path'],
      [{ target: '/p?q=2' }, 'query'],
      [{ body: Buffer.from('{"a":2}') }, 'body'],
    ] as const) {
      const changed = { ...base, ...change };
      expect(matcher.match(changed), field).toBeUndefined();
      expect(matcher.nearest(changed)?.differences.map((d) => d.field)).toEqual([field]);
    }
    expect(matcher.nearest({ ...base, body: Buffer.from('{"a":2}') })?.differences[0]).toEqual({
      field: 'body',
      recorded: '{"a":1}',
      received: '{"a":2}',
    });
  });

  it('applies user ignore rules for query parameters, headers and JSON body paths', () => {
    const rules = {
      ignoreQueryParams: ['_', 'ts'],
      ignoreHeaders: ['X-Request-Id'],
      ignoreJsonBodyPaths: ['$.meta.nonce', 'items.*.ts'],
    };
    const json = (body: unknown) => Buffer.from(JSON.stringify(body));
    const original = request('/s?q=cats&_=111&ts=5', {
      method: 'POST',
      headers: [
        ['X-Request-Id', 'r1'],
        ['Content-Type', 'application/json'],
      ],
      body: json({
        q: 'cats',
        meta: { nonce: 'n1', v: 1 },
        items: [
          { id: 1, ts: 10 },
          { id: 2, ts: 11 },
        ],
      }),
    });
    const matcher = new RequestMatcher([recorded(original, 'found')], rules);
    const later = request('/s?q=cats&_=999&ts=6', {
      method: 'POST',
      headers: [
        ['X-Request-Id', 'r2'],
        ['Content-Type', 'application/json'],
      ],
      body: json({
        items: [
          { ts: 20, id: 1 },
          { id: 2, ts: 21 },
        ],
        meta: { v: 1, nonce: 'n2' },
        q: 'cats',
      }),
    });
    expect(bodyOf(matcher.match(later))).toBe('found');
    expect(matcher.match({ ...later, target: '/s?q=dogs&_=1' })).toBeUndefined();
    expect(matcher.match({ ...later, body: json({ q: 'cats', meta: { v: 2 }, items: [] }) })).toBeUndefined();
  });

  it('serves identical requests in recorded order, then repeats the last; reset rewinds', () => {
    const matcher = new RequestMatcher(['1', '2', '3'].map((n) => recorded(request('/poll'), n)));
    const seen = Array.from({ length: 5 }, () => bodyOf(matcher.match(request('/poll'))));
    expect(seen).toEqual(['1', '2', '3', '3', '3']);
    matcher.reset();
    expect(bodyOf(matcher.match(request('/poll')))).toBe('1');
    expect(matcher.unused().map(bodyOf)).toEqual(['2', '3']);
  });

  it('picks the nearest recording by fewest differing fields, then the longest shared path', () => {
    const matcher = new RequestMatcher([
      recorded(request('/users/1'), 'u1'),
      recorded(request('/users/1/posts?page=1'), 'p1'),
      recorded(request('/x', { method: 'POST' }), 'x'),
    ]);
    const near = matcher.nearest(request('/users/1/posts?page=2'));
    expect(bodyOf(near?.exchange)).toBe('p1');
    expect(near?.differences).toEqual([{ field: 'query', recorded: 'page=1', received: 'page=2' }]);
  });
});

describe('scrubbing', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await startOrigin((req, res) => {
      res.writeHead(200, ['Set-Cookie', 'session=secret-cookie', 'Content-Type', 'text/plain']);
      res.end(`auth ${req.headers.authorization ? 'present' : 'missing'}`);
    });
  });
  afterAll(async () => {
    await origin.close();
  });

  async function drain(body: AsyncIterable<Buffer>): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    return Buffer.concat(chunks).toString();
  }

  it('scrubSecrets keeps secrets out of the archive, yet playback still matches', async () => {
    const archive = Archive.create();
    const recorder = new ArchivingHTTPClient(new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true }), {
      archive,
      scrubSecrets: true,
    });
    const host = `api.test:${origin.port}`;
    const live = await recorder.exchange(
      request('/me', {
        host,
        headers: [
          ['Host', host],
          ['Authorization', 'Bearer s3cret'],
          ['Cookie', 'a=b'],
        ],
      }),
    );
    expect(await drain(live.body)).toBe('auth present');
    expect(live.headers).toContainEqual(['Set-Cookie', 'session=secret-cookie']);
    await recorder.close();
    const json = (await archive.serialize(false)).toString();
    expect(json).not.toContain('s3cret');
    expect(json).not.toContain('secret-cookie');
    expect(json).not.toContain('a=b');
    expect(json).toContain(SCRUBBED);
    const playback = new PlaybackHTTPClient(Archive.fromHar(JSON.parse(json)), { scrubSecrets: true });
    const replay = await playback.exchange(
      request('/me', {
        host,
        headers: [
          ['Host', host],
          ['Authorization', 'Bearer other-token'],
        ],
      }),
    );
    expect(replay.status).toBe(200);
    expect(replay.headers).toContainEqual(['Set-Cookie', SCRUBBED]);
    expect(await drain(replay.body)).toBe('auth present');
  });

  it('applies beforeRecord to what is stored and to requests before matching', async () => {
    const dropToken = (e: RecordedExchange): RecordedExchange => ({
      ...e,
      request: { ...e.request, target: e.request.target.replace(/token=[^&]*/, 'token=X') },
    });
    const archive = Archive.create();
    const recorder = new ArchivingHTTPClient(new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true }), {
      archive,
      beforeRecord: dropToken,
    });
    const host = `api.test:${origin.port}`;
    await drain((await recorder.exchange(request('/q?token=abc&x=1', { host }))).body);
    await recorder.close();
    expect(archive.exchanges[0]?.request.target).toBe('/q?token=X&x=1');
    const playback = new PlaybackHTTPClient(archive, { beforeRecord: dropToken });
    expect((await playback.exchange(request('/q?token=zzz&x=1', { host }))).status).toBe(200);
    expect((await playback.exchange(request('/q?token=zzz&x=2', { host }))).status).toBe(404);
    const dropAll = new ArchivingHTTPClient(new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true }), {
      archive: Archive.create(),
      beforeRecord: () => undefined,
    });
    await drain((await dropAll.exchange(request('/q', { host }))).body);
    expect(dropAll.archive.size).toBe(0);
    await dropAll.close();
  });
});

describe('PlaybackHTTPClient', () => {
  it('corrects a Content-Length that a hand-edited body no longer matches, except for HEAD', async () => {
    const edited = recorded(request('/e'), 'hi');
    edited.response.headers = [['Content-Length', '5']];
    const head = recorded(request('/e', { method: 'HEAD' }), '');
    head.response.headers = [['Content-Length', '5']];
    const archive = Archive.create();
    archive.add(edited);
    archive.add(head);
    const playback = new PlaybackHTTPClient(archive);
    expect((await playback.exchange(request('/e'))).headers).toEqual([['Content-Length', '2']]);
    expect((await playback.exchange(request('/e', { method: 'HEAD' }))).headers).toEqual([
      ['Content-Length', '5'],
    ]);
    expect(playback.unused()).toEqual([]);
  });
});
