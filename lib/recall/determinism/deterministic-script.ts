/**
 * The script Recall puts into HTML pages so that a page sees the same "random" numbers and the same clock on every
 * load: `Math.random`, `crypto.getRandomValues`, `crypto.randomUUID`, `Date` and `Date.now` all derive from the
 * archive's initial state. The script holds its state in its own closure, so every page load starts over from the
 * same state, and two pages served at once cannot disturb each other (research/recall.md §15 B11).
 *
 * `Date` is replaced by a constructor that shares the native prototype: `new Date() instanceof Date` holds, methods
 * a page adds to `Date.prototype` work on every date, subclasses work, and the native `Date.now` is left alone (B12).
 * The clock starts at the recording's start and advances 50 ms every 25 readings (`new Date()` or `Date.now()`), the
 * original's rate, so loops that wait for time to pass still end. `Math.random` is a seeded generator rather than
 * the original's repeated constant 0.462, because pages that draw identifiers would otherwise draw duplicates.
 * Not covered: `performance.now`, timers, workers and iframes of other origins.
 */

/** The recording's initial state, from the archive (`log._recall`). */
export interface DeterministicState {
  /** Clock the page starts from, in milliseconds since the epoch (the recording's start). */
  readonly startTime: number;
  /** Seed of the random numbers; any finite number. */
  readonly randomSeed: number;
}

/** Marker attribute on the injected `<script>`; a body that already has it is not injected twice. */
export const DETERMINISTIC_SCRIPT_MARKER = 'data-recall-deterministic';

/** 32-bit FNV-1a over the seed's decimal text, so fractional seeds (0.462) and integers both work. */
function seedToUint32(seed: number): number {
  let hash = 0x811c9dc5;
  for (const char of String(seed)) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The JavaScript source of the script (ASCII only, no `</script`), for the given state. */
export function deterministicScriptSource(state: DeterministicState): string {
  if (!Number.isFinite(state.startTime) || !Number.isFinite(state.randomSeed)) {
    throw new TypeError(
      `deterministic state must hold finite numbers, got startTime ${state.startTime} and randomSeed ${state.randomSeed}`,
    );
  }
  const start = Math.trunc(state.startTime);
  const seed = seedToUint32(state.randomSeed);
  return `(function () {
'use strict';
var g = typeof globalThis !== 'undefined' ? globalThis : window;
var NativeDate = g.Date;
var start = ${start};
var readings = 0;
var s = ${seed};
function clock() { var t = start + Math.floor(readings / 25) * 50; readings += 1; return t; }
function next32() {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  var x = s ^ (s >>> 15);
  x = Math.imul(x, 0x2c1b3c6d);
  x ^= x >>> 12;
  x = Math.imul(x, 0x297a2d39);
  return (x ^ (x >>> 15)) >>> 0;
}
function define(target, name, value) {
  Object.defineProperty(target, name, { value: value, writable: true, configurable: true, enumerable: false });
}
define(Math, 'random', function random() {
  return ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
});
var c = g.crypto;
if (c && typeof c.getRandomValues === 'function') {
  var nativeGetRandomValues = c.getRandomValues;
  var fill = function getRandomValues(array) {
    var result = nativeGetRandomValues.call(c, array);
    var bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    var word = 0;
    for (var i = 0; i < bytes.length; i += 1) {
      if (i % 4 === 0) word = next32();
      bytes[i] = (word >>> ((i % 4) * 8)) & 255;
    }
    return result;
  };
  define(c, 'getRandomValues', fill);
  if (typeof c.randomUUID === 'function') {
    define(c, 'randomUUID', function randomUUID() {
      var b = fill(new Uint8Array(16));
      b[6] = (b[6] & 15) | 64;
      b[8] = (b[8] & 63) | 128;
      var hex = '';
      for (var j = 0; j < 16; j += 1) {
        hex += (b[j] + 256).toString(16).slice(1);
        if (j === 3 || j === 5 || j === 7 || j === 9) hex += '-';
      }
      return hex;
    });
  }
}
function Date() {
  if (!new.target) return new NativeDate(clock()).toString();
  var args = arguments.length === 0 ? [clock()] : Array.prototype.slice.call(arguments);
  return Reflect.construct(NativeDate, args, new.target);
}
Date.prototype = NativeDate.prototype;
Object.defineProperty(Date, 'length', { value: 7, configurable: true });
define(Date, 'now', function now() { return clock(); });
define(Date, 'parse', NativeDate.parse);
define(Date, 'UTC', NativeDate.UTC);
define(NativeDate.prototype, 'constructor', Date);
define(g, 'Date', Date);
})();`;
}
