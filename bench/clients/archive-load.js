#!/usr/bin/env node
// Run with --expose-gc.
// Loads one archive in a fresh process and reports time and memory:
//   recall: Archive.load (read, gunzip, JSON.parse, validate, decode) then PlaybackHTTPClient (the match index)
//   json:   read, gunzip and JSON.parse only: the floor any HAR reader pays
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { Archive, PlaybackHTTPClient } from '../../dist/lib/recall/index.js';

const [file, mode] = process.argv.slice(2);
const mb = (n) => n / (1024 * 1024);
globalThis.gc();
const before = process.memoryUsage();
const start = performance.now();
let keep;
let loadMs;
let indexMs = 0;
if (mode === 'recall') {
  const archive = await Archive.load(file);
  loadMs = performance.now() - start;
  const t = performance.now();
  const playback = new PlaybackHTTPClient(archive);
  indexMs = performance.now() - t;
  keep = [archive, playback];
} else {
  keep = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
  loadMs = performance.now() - start;
}
globalThis.gc();
const after = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({
    loadMs,
    indexMs,
    totalMs: loadMs + indexMs,
    rssMB: mb(after.rss),
    retainedMB: mb(after.heapUsed + after.external - before.heapUsed - before.external),
    kept: Array.isArray(keep) ? keep.length : 1,
  })}\n`,
);
