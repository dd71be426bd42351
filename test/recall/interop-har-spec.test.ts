// Recall's own archives read as HAR 1.2 where viewers look (issue 17.4): a recording of real compressed, binary,
// cookie-setting and POST exchanges validates against the har-schema JSON Schema (ajv); content.text is the decoded
// body and content.size its length, the exact wire bytes sit in content._recall.wire and play back byte for byte;
// cookies are filled, entries are in time order, and `recall show` labels text and binary correctly.
// `recall import` turns a Chrome export into a valid Recall archive; a version 1 archive loads and saves as 2.
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Archive,
  ArchivingHTTPClient,
  HTTPClient,
  HTTPServer,
  PlaybackHTTPClient,
} from '../../lib/recall/index.js';
import { EXPECTATIONS, archiveBytes } from '../fixtures/archives/foreign-hars.js';
import { runCli } from '../helpers/cli.js';
import { curl, headerOf, loopbackLookup, startOrigin, type Origin } from './http-fixtures.js';

const require = createRequire(import.meta.url);

/** A validator for HAR files from the har-schema package (JSON Schema draft-06). */
function harValidator(): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
  const schemas = require('har-schema') as Record<string, object>;
  for (const schema of Object.values(schemas)) ajv.addSchema(schema);
  return ajv.getSchema('har.json#')!;
}

function expectValidHar(validate: ValidateFunction, har: unknown): void {
  const valid = validate(har);
  expect(valid ? [] : validate.errors).toEqual([]);
}

const PAGE = Buffer.from(`<html><body>${'héllo garden '.repeat(300)}</body></html>`);
const FONT = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 31 + 7) % 256));
const DATA = Buffer.from(JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => `item ${i}`) }));
const IMAGE = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 13) % 256));
const WIRE = { '/page': gzipSync(PAGE), '/font': brotliCompressSync(FONT), '/data': deflateSync(DATA) };

describe('Recall archives as HAR 1.2', () => {
  let dir: string;
  let origin: Origin;
  let host: string;
  const validate = harValidator();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-har-spec-'));
    origin = await startOrigin((req, res) => {
      const path = req.url ?? '/';
      req.resume();
      if (path === '/page')
        res.writeHead(200, [
          'Content-Type',
          'text/html; charset=utf-8',
          'Content-Encoding',
          'gzip',
          'Set-Cookie',
          'session=abc; Path=/; HttpOnly; Secure',
          'Set-Cookie',
          'theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT',
        ]);
      else if (path === '/font')
        res.writeHead(200, { 'content-type': 'font/woff2', 'content-encoding': 'br' });
      else if (path === '/data')
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' });
      else res.writeHead(path === '/form' ? 201 : 200, { 'content-type': 'image/x-test' });
      res.end(WIRE[path as keyof typeof WIRE] ?? (path === '/form' ? '' : IMAGE));
    });
    host = `shop.test:${origin.port}`;
  });

  afterAll(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records an archive that validates as HAR, with decoded bodies, wire bytes beside, cookies and time order', async () => {
    const archive = Archive.create();
    const upstream = new HTTPClient({ lookup: loopbackLookup, allowLocalUpstreams: true });
    // Cookies stored in clear here, so the HAR's cookie lists can be checked (the default scrubs them).
    await using server = new HTTPServer({
      exchanger: new ArchivingHTTPClient(upstream, { archive, scrub: 'none' }),
    });
    const { port } = await server.listen();
    const taken = ['-H', 'Accept-Encoding: gzip, deflate, br', '-H', 'Cookie: a=1; b=two'];
    for (const path of ['/page', '/font', '/data', '/image'])
      expect((await curl(`http://${host}${path}`, port, taken)).status).toBe(200);
    await curl(`http://${host}/form`, port, ['-d', 'q=rake&n=2']);
    const file = join(dir, 'recorded.har');
    await archive.save(file);
    const har = JSON.parse(await readFile(file, 'utf8'));
    expectValidHar(validate, har);
    const entries = har.log.entries as Array<Record<string, any>>;
    const times = entries.map((e) => Date.parse(e.startedDateTime));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const byPath = Object.fromEntries(entries.map((e) => [new URL(e.request.url).pathname, e]));
    const page = byPath['/page']!.response.content;
    expect(page).toMatchObject({
      size: PAGE.length,
      text: PAGE.toString('utf8'),
      compression: PAGE.length - WIRE['/page'].length,
    });
    expect(Buffer.from(page._recall.wire, 'base64').equals(WIRE['/page'])).toBe(true);
    const font = byPath['/font']!.response.content;
    expect(font).toMatchObject({ size: FONT.length, encoding: 'base64', text: FONT.toString('base64') });
    expect(Buffer.from(font._recall.wire, 'base64').equals(WIRE['/font'])).toBe(true);
    expect(byPath['/data']!.response.content).toMatchObject({ size: DATA.length, text: DATA.toString() });
    expect(byPath['/image']!.response.content).toEqual({
      size: IMAGE.length,
      mimeType: 'image/x-test',
      text: IMAGE.toString('base64'),
      encoding: 'base64',
    });
    expect(byPath['/page']!.request.cookies).toEqual([
      { name: 'a', value: '1' },
      { name: 'b', value: 'two' },
    ]);
    expect(byPath['/page']!.response.cookies).toEqual([
      { name: 'session', value: 'abc', path: '/', httpOnly: true, secure: true },
      { name: 'theme', value: 'dark', expires: '2026-10-21T07:28:00.000Z' },
    ]);
    expect(byPath['/form']!.request.postData).toMatchObject({ text: 'q=rake&n=2' });

    // Played back: the exact wire bytes to a client that takes the coding, the decoded body to one that does not.
    const playback = new PlaybackHTTPClient(await Archive.load(file));
    await using replay = new HTTPServer({ exchanger: playback });
    const replayPort = (await replay.listen()).port;
    for (const [path, wire] of Object.entries(WIRE)) {
      const raw = await curl(`http://${host}${path}`, replayPort, [
        '-H',
        'Accept-Encoding: gzip, deflate, br',
      ]);
      expect(raw.body.equals(wire), path).toBe(true);
    }
    const plain = await curl(`http://${host}/font`, replayPort);
    expect(plain.body.equals(FONT)).toBe(true);
    expect(headerOf(plain.headers, 'content-encoding')).toBeUndefined();

    // recall show: decoded text for the compressed page, a binary label for the image and the font.
    const show = await runCli('recall', ['show', file]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(
      `[${PAGE.length} bytes of text, gzip-encoded, ${WIRE['/page'].length} bytes on the wire; shown decoded]\n<html><body>héllo garden`,
    );
    expect(show.stdout).toContain(`[${IMAGE.length} bytes of binary (image/x-test), stored as base64]`);
    expect(show.stdout).toContain(
      `[${FONT.length} bytes of binary (font/woff2), br-encoded, ${WIRE['/font'].length} bytes on the wire]`,
    );
  }, 120_000);

  it('imports a Chrome export with `recall import` into an archive that validates, bodies decoded and wire bytes beside', async () => {
    const source = join(dir, 'chrome.har');
    await writeFile(source, archiveBytes('chrome'));
    const output = join(dir, 'imported.har');
    const result = await runCli('recall', ['import', source, output]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`imported ${EXPECTATIONS.length} exchanges`);
    expect(result.stderr).toContain('ads.tracker.test/pixel.js');
    const har = JSON.parse(await readFile(output, 'utf8'));
    expectValidHar(validate, har);
    expect(har.log._recall.version).toBe(2);
    const home = har.log.entries.find(
      (e: { request: { url: string } }) => e.request.url === 'https://www.shop.test/',
    );
    expect(home.response.content.text).toBe(EXPECTATIONS[0]!.body.toString('utf8'));
    expect(home.response.content._recall.wire).toEqual(expect.any(String));
  }, 60_000);

  it('loads a version 1 archive (bodies stored encoded) and saves it as version 2 with the same wire bytes', async () => {
    const old = join(dir, 'v1.har');
    await writeFile(old, archiveBytes('recall-v1'));
    const archive = await Archive.load(old);
    const saved = join(dir, 'v2.har');
    await archive.save(saved);
    const har = JSON.parse(await readFile(saved, 'utf8'));
    expectValidHar(validate, har);
    expect(har.log._recall.version).toBe(2);
    const before = new Map(
      (await Archive.load(old)).exchanges.map((e) => [e.request.target, e.response.body]),
    );
    for (const e of (await Archive.load(saved)).exchanges)
      expect(e.response.body.equals(before.get(e.request.target)!)).toBe(true);
  });
});
