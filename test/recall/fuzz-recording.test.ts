// 500 concurrent requests through a recording HTTPServer (issue 12): every one answered with its own body, every
// one in the archive exactly once, and the server idle afterwards. RECALL_FUZZ_SCALE multiplies the count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, buildConnector, fetch } from 'undici';
import { Archive, ArchivingHTTPClient, HTTPClient, HTTPServer } from '../../lib/recall/index.js';
import { loopbackLookup, startOrigin, type Origin } from './http-fixtures.js';

const SCALE = Number(process.env.RECALL_FUZZ_SCALE ?? 1);
const REQUESTS = Math.round(500 * SCALE);

describe('recording under concurrency', () => {
  let origin: Origin;

  beforeAll(async () => {
    origin = await startOrigin((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // Answers in a shuffled order, so exchanges complete out of order.
        setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
        }, Math.random() * 50);
      });
    });
  });

  afterAll(async () => {
    await origin.close();
  });

  it(`records ${REQUESTS} concurrent requests, each once`, async () => {
    const archive = Archive.create();
    const recorder = new ArchivingHTTPClient(
      new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true }),
      { archive },
    );
    await using server = new HTTPServer({ exchanger: recorder });
    const { port } = await server.listen();
    const connector = buildConnector({});
    // 200 connections from this one source (the server allows 256 per source): the rest wait in undici's queue.
    const agent = new Agent({
      connections: 200,
      connect: (options, callback) =>
        connector({ ...options, hostname: '127.0.0.1', port: String(port) }, callback),
    });
    const base = `http://rec.test:${origin.port}`;
    const bodies = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        const post = i % 3 === 0;
        const response = await fetch(`${base}/item/${i}`, {
          dispatcher: agent,
          method: post ? 'POST' : 'GET',
          ...(post ? { body: `payload ${i}` } : {}),
        });
        return { i, status: response.status, text: await response.text() };
      }),
    );
    await agent.close();
    for (const { i, status, text } of bodies) {
      expect(status).toBe(200);
      expect(text).toBe(i % 3 === 0 ? `POST /item/${i} payload ${i}` : `GET /item/${i} `);
    }
    for (let i = 0; i < 500 && recorder.inFlight > 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    const targets = archive.exchanges.map((e) => e.request.target);
    expect(targets.length).toBe(REQUESTS);
    expect(new Set(targets).size).toBe(REQUESTS);
    expect(new Set(targets)).toEqual(new Set(Array.from({ length: REQUESTS }, (_, i) => `/item/${i}`)));
    for (const exchange of archive.exchanges) {
      const i = Number(exchange.request.target.split('/').pop());
      expect(exchange.response.body.toString()).toBe(
        i % 3 === 0 ? `POST /item/${i} payload ${i}` : `GET /item/${i} `,
      );
    }
    expect(server.inFlight).toBe(0);
    await recorder.close();
  });
});
