// Misses in playback cost bounded memory and time (issue 12.5, 12.6): many misses with long paths are aggregated
// by request with counts, kept up to a bound and summarised in a bounded number of lines; a miss against a large
// archive compares a bounded number of recordings to find its nearest one, and still finds the right one.
import { describe, expect, it } from 'vitest';
import {
  Archive,
  HTTPServer,
  MAX_MISS_TEXT,
  PlaybackHTTPClient,
  RequestMatcher,
  type RecordedExchange,
  type RecordedRequest,
} from '../../lib/recall/index.js';
import { NEAREST_GROUP_LIMIT } from '../../lib/recall/http/nearest-index.js';
import { curl } from './http-fixtures.js';

function request(host: string, target: string, method = 'GET'): RecordedRequest {
  return {
    method,
    scheme: 'http',
    host,
    target,
    httpVersion: '1.1',
    headers: [['Host', host]],
    body: Buffer.alloc(0),
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

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const chunk of body) void chunk;
}

describe('playback misses', () => {
  it('aggregates many misses with long paths by request, with counts, keeping and printing a bounded amount', async () => {
    const archive = Archive.create();
    archive.add(recorded(request('api.test', '/known'), 'known'));
    const playback = new PlaybackHTTPClient(archive, { maxDistinctMisses: 100 });
    const longPath = `/${'segment/'.repeat(1000)}`; // 9 KB paths
    // 30,000 misses of 3,000 distinct requests: each one missed 10 times.
    for (let round = 0; round < 10; round++)
      for (let i = 0; i < 3000; i++)
        await drain((await playback.exchange(request('api.test', `${longPath}${i}`))).body);
    expect(playback.missCount).toBe(30_000);
    const misses = playback.misses();
    expect(misses).toHaveLength(100);
    expect(misses.every((m) => m.count === 10)).toBe(true);
    expect(misses.every((m) => m.url.length <= MAX_MISS_TEXT + 40)).toBe(true);
    expect(misses[0]).toMatchObject({ method: 'GET', count: 10, nearest: { url: 'http://api.test/known' } });
    expect(JSON.stringify(misses).length).toBeLessThan(1_500_000);
    const summary = playback.missSummary(20);
    expect(summary).toHaveLength(21);
    expect(summary[20]).toBe('… and 29800 more misses not listed');
    // Per iteration: only what came after the mark, counted from it.
    const mark = playback.missMark();
    await drain((await playback.exchange(request('api.test', `${longPath}0`))).body);
    await drain((await playback.exchange(request('api.test', '/new'))).body);
    // The repeat of a kept request is counted from the mark; '/new' is only counted (the log is full).
    expect(playback.misses(mark)).toEqual([expect.objectContaining({ count: 1, at: misses[0]!.at })]);
    expect(playback.missCount - mark.total).toBe(2);
  }, 120_000);

  it('still answers a miss over HTTP with the nearest recording named', async () => {
    const archive = Archive.create();
    archive.add(recorded(request('api.test', '/users/1'), 'u1'));
    const playback = new PlaybackHTTPClient(archive);
    await using server = new HTTPServer({ exchanger: playback });
    const { port } = await server.listen();
    for (let i = 0; i < 3; i++) {
      const miss = await curl('http://api.test/users/2', port);
      expect(miss.status).toBe(404);
      expect(miss.body.toString()).toContain('Nearest recording: GET http://api.test/users/1');
    }
    expect(playback.misses()).toEqual([
      expect.objectContaining({ url: 'http://api.test/users/2', count: 3 }),
    ]);
  });

  it('compares a bounded number of recordings per miss, even with 200,000 recordings, and finds the nearest', () => {
    const exchanges: RecordedExchange[] = [];
    for (let i = 0; i < 200_000; i++) {
      const host = `h${i % 50}.test`;
      exchanges.push(recorded(request(host, `/items/${i}?page=${i % 7}`), String(i)));
    }
    exchanges.push(recorded(request('api.test', '/orders/17/lines?sort=asc'), 'lines'));
    exchanges.push(recorded(request('api.test', '/orders/17/lines?sort=asc', 'POST'), 'post'));
    exchanges.push(recorded(request('cdn.test', '/logo.png'), 'logo'));
    const matcher = new RequestMatcher(exchanges);
    const limit = 3 * NEAREST_GROUP_LIMIT;
    // Only the query differs.
    const query = matcher.nearest(request('api.test', '/orders/17/lines?sort=desc'))!;
    expect(query.exchange.response.body.toString()).toBe('lines');
    expect(query.differences.map((d) => d.field)).toEqual(['query']);
    expect(query.compared).toBeLessThanOrEqual(limit);
    // Another path on the same host: the longest shared path wins.
    const path = matcher.nearest(request('api.test', '/orders/17/line?sort=asc'))!;
    expect(path.exchange.response.body.toString()).toBe('lines');
    expect(path.compared).toBeLessThanOrEqual(limit);
    // The same path on another host.
    const host = matcher.nearest(request('cdn2.test', '/logo.png'))!;
    expect(host.exchange.response.body.toString()).toBe('logo');
    expect(host.differences.map((d) => d.field)).toEqual(['host']);
    // A crowded path: thousands of recordings share the host, still bounded.
    const crowded = matcher.nearest(request('h3.test', '/items/153?page=1'))!;
    expect(crowded.compared).toBeLessThanOrEqual(limit);
    expect(crowded.differences.length).toBeLessThanOrEqual(2);
  }, 180_000);
});
