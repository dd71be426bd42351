// The deterministic script injector as a pure function: the script run in node:vm (two loads see the same random
// numbers and clock), placement rules, Content-Security-Policy, and gzip/deflate/br bodies. Real Chromium and the
// exchanger wrapper are in injector-chromium.test.ts.
import { createHash } from 'node:crypto';
import vm from 'node:vm';
import {
  brotliCompressSync,
  brotliDecompressSync,
  deflateRawSync,
  deflateSync,
  gunzipSync,
  gzipSync,
  inflateRawSync,
  inflateSync,
} from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { injectDeterministicScript } from '../../lib/recall/determinism/deterministic-script-injector.js';
import { allowScriptHashInCsp } from '../../lib/recall/determinism/html-injection.js';
import type { RawHeaders } from '../../lib/recall/archive/archive-types.js';
import { html, OPEN_TAG, runInVm, scriptOf, STATE } from '../helpers/deterministic-probe.js';

describe('injectDeterministicScript', () => {
  it('makes Math.random, crypto and Date repeat on every load, from the archive state', async () => {
    const page = (
      await injectDeterministicScript(html('<html><head><title>t</title></head><body>x</body></html>'), STATE)
    ).body.toString('latin1');
    const first = runInVm(page);
    const second = runInVm(page);
    expect(second).toEqual(first);
    expect(first).toMatchObject({
      now: STATE.startTime,
      date: STATE.startTime,
      isDate: true,
      ctor: true,
      withArgs: 1,
      fromString: Date.UTC(2001, 1, 3, 4, 5, 6),
      asFunction: 'string',
      subclass: true,
      pageMethod: 42,
      utc: Date.UTC(2000, 0, 1),
    });
    const random = first.random as number[];
    expect(new Set(random).size).toBe(3);
    for (const value of random) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
    expect(first.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Another seed, another sequence; the clock advances 50 ms every 25 readings.
    const other = runInVm(
      (await injectDeterministicScript(html('<head></head>'), { ...STATE, randomSeed: 7 })).body.toString(
        'latin1',
      ),
    );
    expect(other.random).not.toEqual(first.random);
    const context = vm.createContext({});
    vm.runInContext(scriptOf(page), context);
    expect(vm.runInContext('for (var i = 0; i < 25; i++) Date.now(); Date.now()', context)).toBe(
      STATE.startTime + 50,
    );
  });

  it('places the script after <meta charset>, else after <head> (not <header>), else after <html> or the doctype', async () => {
    const place = async (page: string): Promise<string> =>
      (await injectDeterministicScript(html(page), STATE)).body
        .toString('latin1')
        .replace(/<script data-recall[\s\S]*?<\/script>/, '[S]');
    expect(
      await place(
        '<!doctype html><html><head><title>t</title><meta charset="utf-8"></head><body></body></html>',
      ),
    ).toBe('<!doctype html><html><head><title>t</title><meta charset="utf-8">[S]</head><body></body></html>');
    expect(await place('<html><HEAD lang="en"><title>t</title></HEAD></html>')).toBe(
      '<html><HEAD lang="en">[S]<title>t</title></HEAD></html>',
    );
    expect(
      await place(
        '<!DOCTYPE html><html lang="en"><body><header>h</header><head-less></head-less></body></html>',
      ),
    ).toBe('<!DOCTYPE html><html lang="en">[S]<body><header>h</header><head-less></head-less></body></html>');
    expect(await place('<!-- <head> --><!DOCTYPE html><p>hi')).toBe('<!-- <head> --><!DOCTYPE html>[S]<p>hi');
    expect(await place('<p>fragment</p>')).toBe('[S]<p>fragment</p>');
    expect(await place('\xef\xbb\xbf<p>bom</p>')).toBe('\xef\xbb\xbf[S]<p>bom</p>');
    // A <meta charset> in the body is not the document's charset declaration.
    expect(await place('<head><title>t</title></head><body><meta charset="x"></body>')).toBe(
      '<head>[S]<title>t</title></head><body><meta charset="x"></body>',
    );
  });

  it('fixes Content-Length, keeps other headers and bytes, and leaves non-HTML, empty and injected bodies alone', async () => {
    const latin1 = '<head><title>caf\xe9</title></head>';
    const response = html(latin1, [
      ['Content-Type', 'text/html; charset=iso-8859-1'],
      ['Content-MD5', 'x'],
      ['X-Kept', 'yes'],
    ]);
    const injected = await injectDeterministicScript(response, STATE);
    expect(injected.headers.find(([n]) => n === 'Content-Length')?.[1]).toBe(String(injected.body.length));
    expect(injected.headers.map(([n]) => n)).toEqual(['Content-Type', 'X-Kept', 'Content-Length']);
    expect(injected.body.toString('latin1').endsWith('<title>caf\xe9</title></head>')).toBe(true);
    expect(await injectDeterministicScript(injected, STATE)).toBe(injected);
    const css = {
      status: 200,
      headers: [['Content-Type', 'text/css']] as RawHeaders,
      body: Buffer.from('<head>'),
    };
    expect(await injectDeterministicScript(css, STATE)).toBe(css);
    const notModified = { ...html('<head>'), status: 304 };
    expect(await injectDeterministicScript(notModified, STATE)).toBe(notModified);
    const corrupt = html('not gzip', [
      ['Content-Type', 'text/html'],
      ['Content-Encoding', 'gzip'],
    ]);
    expect(await injectDeterministicScript(corrupt, STATE)).toBe(corrupt);
  });

  it.each([
    ['gzip', gzipSync, gunzipSync],
    ['deflate', deflateSync, inflateSync],
    ['deflate', deflateRawSync, inflateRawSync],
    ['br', brotliCompressSync, brotliDecompressSync],
  ] as const)(
    'works on %s bodies and encodes them back the same way (%#)',
    async (coding, encode, decode) => {
      const page = '<html><head><title>compressed</title></head><body>' + 'x'.repeat(5000) + '</body></html>';
      const body = encode(Buffer.from(page));
      const response = {
        status: 200,
        headers: [
          ['content-type', 'text/html'],
          ['content-encoding', coding],
          ['content-length', String(body.length)],
        ] as RawHeaders,
        body,
      };
      const injected = await injectDeterministicScript(response, STATE);
      const decoded = decode(injected.body).toString('latin1');
      expect(decoded).toContain(`<head>${OPEN_TAG}`);
      expect(decoded.replace(/<script data-recall[\s\S]*?<\/script>/, '')).toBe(page);
      expect(injected.headers).toContainEqual(['content-encoding', coding]);
      expect(injected.headers).toContainEqual(['content-length', String(injected.body.length)]);
    },
  );

  it('adds the script hash to the Content-Security-Policy so the browser runs it', async () => {
    const injected = await injectDeterministicScript(
      html('<head></head>', [
        ['Content-Type', 'text/html'],
        ['Content-Security-Policy', "default-src 'self'; script-src 'self' 'nonce-abc'"],
      ]),
      STATE,
    );
    const hash = `'sha256-${createHash('sha256')
      .update(scriptOf(injected.body.toString('latin1')))
      .digest('base64')}'`;
    expect(injected.headers).toContainEqual([
      'Content-Security-Policy',
      `default-src 'self'; script-src 'self' 'nonce-abc' ${hash}`,
    ]);
    const meta = (
      await injectDeterministicScript(
        html(
          `<head><meta http-equiv="Content-Security-Policy" content="script-src 'self'"><meta charset="utf-8"></head>`,
        ),
        STATE,
      )
    ).body.toString('latin1');
    expect(meta).toContain(`<meta http-equiv="Content-Security-Policy" content="script-src 'self' ${hash}">`);
    expect(meta.indexOf(OPEN_TAG)).toBeGreaterThan(meta.indexOf('<meta charset="utf-8">'));
    const single = (
      await injectDeterministicScript(
        html(`<head><META content='default-src &#39;self&#39;' HTTP-EQUIV=content-security-policy></head>`),
        STATE,
      )
    ).body.toString('latin1');
    expect(single).toContain(`<META content='default-src &#39;self&#39; &#39;sha256-`);
    const h = "'sha256-AAA='";
    expect(allowScriptHashInCsp("default-src 'self'", h)).toBe(`default-src 'self' ${h}`);
    expect(allowScriptHashInCsp("script-src 'none'; img-src *", h)).toBe(`script-src ${h}; img-src *`);
    expect(allowScriptHashInCsp("script-src 'self' 'unsafe-inline'", h)).toBe(
      "script-src 'self' 'unsafe-inline'",
    );
    expect(allowScriptHashInCsp("script-src 'unsafe-inline' 'strict-dynamic' 'nonce-x'", h)).toBe(
      `script-src 'unsafe-inline' 'strict-dynamic' 'nonce-x' ${h}`,
    );
    expect(allowScriptHashInCsp("script-src-elem 'self'; script-src 'self'", h)).toBe(
      `script-src-elem 'self' ${h}; script-src 'self' ${h}`,
    );
    expect(allowScriptHashInCsp("img-src *, SCRIPT-SRC 'self'", h)).toBe(`img-src *, SCRIPT-SRC 'self' ${h}`);
    expect(allowScriptHashInCsp('img-src *', h)).toBe('img-src *');
  });
});
