// The deterministic script's probe for the injector tests: a page's view of Math.random, Date and crypto, run in
// node:vm or (through the page) in Chromium.
import { webcrypto } from 'node:crypto';
import vm from 'node:vm';
import {
  DETERMINISTIC_SCRIPT_MARKER,
  type InjectableResponse,
} from '../../lib/recall/determinism/deterministic-script-injector.js';
import type { RawHeaders } from '../../lib/recall/archive/archive-types.js';

export const STATE = { startTime: Date.UTC(2024, 0, 2, 3, 4, 5, 678), randomSeed: 0.462 };
export const OPEN_TAG = `<script ${DETERMINISTIC_SCRIPT_MARKER}>`;

export function html(
  body: string,
  headers: RawHeaders = [['Content-Type', 'text/html; charset=utf-8']],
): InjectableResponse {
  const bytes = Buffer.from(body, 'latin1');
  return { status: 200, headers: [...headers, ['Content-Length', String(bytes.length)]], body: bytes };
}

export function scriptOf(page: string): string {
  const start = page.indexOf(OPEN_TAG) + OPEN_TAG.length;
  return page.slice(start, page.indexOf('</script>', start));
}

export const PROBE = `JSON.stringify({
  random: [Math.random(), Math.random(), Math.random()],
  now: Date.now(),
  date: new Date().getTime(),
  isDate: new Date() instanceof Date,
  ctor: new Date().constructor === Date,
  withArgs: new Date(2020, 1, 3, 4, 5, 6).getMonth(),
  fromString: new Date('2001-02-03T04:05:06Z').getTime(),
  asFunction: typeof Date(),
  subclass: new (class extends Date {})() instanceof Date,
  pageMethod: (Date.prototype.recallAnswer = function () { return 42; }, new Date().recallAnswer()),
  bytes: Array.from(crypto.getRandomValues(new Uint8Array(6))),
  uuid: crypto.randomUUID(),
  utc: Date.UTC(2000, 0, 1),
})`;

export function runInVm(page: string): Record<string, unknown> {
  const context = vm.createContext({
    crypto: {
      getRandomValues: (a: Uint8Array) => webcrypto.getRandomValues(a),
      randomUUID: () => webcrypto.randomUUID(),
    },
  });
  vm.runInContext(scriptOf(page), context);
  return JSON.parse(vm.runInContext(PROBE, context) as string) as Record<string, unknown>;
}
