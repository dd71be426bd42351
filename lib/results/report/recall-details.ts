/**
 * What the report shows for a Recall test, read from its results folder: per playback iteration the hits,
 * misses and DNS misses (`results/keyval`, `results/misses.N.json`, `results/dns-misses.N.json`), each miss
 * with its nearest recorded request and the fields that differed, and a summary of `archive.har.gz`.
 * These files come from a test, so everything is read defensively: what is missing or malformed is left out.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { splitIterationKeyvals } from '../iteration-keyvals.js';

export interface ReportMiss {
  method: string;
  url: string;
  /** How many times the device asked (the INTEROP helper's `count`; 1 when absent). */
  count: number;
  nearest?: { method: string; url: string; differences: { field: string; recorded: string; received: string }[] };
}

export interface ReportDnsMiss {
  name: string;
  type: string;
  count: number;
}

export interface ReportIteration {
  iteration: number;
  hits?: number;
  misses?: number;
  dnsMisses?: number;
  missList: ReportMiss[];
  dnsMissList: ReportDnsMiss[];
}

export interface ArchiveSummary {
  file: string;
  bytes: number;
  entries: number;
  dnsAnswers: number;
  /** Per host: entries and decoded body bytes. */
  hosts: { host: string; entries: number; bodyBytes: number }[];
}

export interface RecallDetails {
  iterations: ReportIteration[];
  archive?: ArchiveSummary;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 1);

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined; // absent or cut short: nothing to show
  }
}

function toMiss(raw: unknown): ReportMiss | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  const miss: ReportMiss = { method: text(m.method), url: text(m.url), count: count(m.count) };
  const nearest = m.nearest as Record<string, unknown> | undefined;
  if (nearest && typeof nearest === 'object') {
    const differences = Array.isArray(nearest.differences) ? nearest.differences : [];
    miss.nearest = {
      method: text(nearest.method),
      url: text(nearest.url),
      differences: differences
        .filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null)
        .map((d) => ({ field: text(d.field), recorded: text(d.recorded), received: text(d.received) })),
    };
  }
  return miss;
}

function toDnsMiss(raw: unknown): ReportDnsMiss | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  return { name: text(m.name), type: text(m.type), count: count(m.count) };
}

const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);

async function summarizeArchive(file: string): Promise<ArchiveSummary | undefined> {
  try {
    const raw = await readFile(file);
    const har = JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').replace(/^\uFEFF/, '')) as { log?: { entries?: unknown[]; _recall?: { dns?: unknown[] } } };
    const entries = Array.isArray(har.log?.entries) ? har.log.entries : [];
    const hosts = new Map<string, { entries: number; bodyBytes: number }>();
    for (const entry of entries as { request?: { url?: string }; response?: { content?: { size?: number } } }[]) {
      let host = '?';
      try {
        host = new URL(text(entry?.request?.url)).host;
      } catch {
        // an entry without a valid URL is counted under '?'
      }
      const item = hosts.get(host) ?? { entries: 0, bodyBytes: 0 };
      item.entries++;
      const size = entry?.response?.content?.size;
      if (typeof size === 'number' && size > 0) item.bodyBytes += size;
      hosts.set(host, item);
    }
    return {
      file,
      bytes: (await stat(file)).size,
      entries: entries.length,
      dnsAnswers: Array.isArray(har.log?._recall?.dns) ? har.log._recall.dns.length : 0,
      hosts: [...hosts].map(([host, v]) => ({ host, ...v })).sort((a, b) => b.entries - a.entries || a.host.localeCompare(b.host)),
    };
  } catch {
    return undefined; // not a readable archive: the report leaves the summary out
  }
}

/** Undefined for a test that shows no sign of Recall. */
export async function readRecallDetails(testDir: string): Promise<RecallDetails | undefined> {
  const resultsDir = join(testDir, 'results');
  const keyvalText = await readFile(join(resultsDir, 'keyval'), 'utf8').catch(() => '');
  // Only playback iterations write Recall keyvals, in order, together with their misses files.
  const blocks = splitIterationKeyvals(keyvalText).filter((kv) => kv.recall_hits !== undefined || kv.recall_misses !== undefined);
  const numbers = new Set<number>();
  for (const name of await readdir(resultsDir).catch(() => [] as string[])) {
    const n = /^(?:dns-)?misses\.(\d+)\.json$/.exec(name)?.[1];
    if (n) numbers.add(Number(n));
  }
  const sorted = [...numbers].sort((a, b) => a - b);
  const iterationNumbers = sorted.length >= blocks.length ? sorted : blocks.map((_, i) => sorted[i] ?? i + 1);
  const iterations: ReportIteration[] = [];
  for (const [index, n] of iterationNumbers.entries()) {
    const kv = blocks[index] ?? {};
    const misses = await readJson(join(resultsDir, `misses.${n}.json`));
    const dnsMisses = await readJson(join(resultsDir, `dns-misses.${n}.json`));
    iterations.push({
      iteration: n,
      hits: num(kv.recall_hits),
      misses: num(kv.recall_misses),
      dnsMisses: num(kv.recall_dns_misses),
      missList: (Array.isArray(misses) ? misses : []).map(toMiss).filter((m): m is ReportMiss => m !== undefined),
      dnsMissList: (Array.isArray(dnsMisses) ? dnsMisses : []).map(toDnsMiss).filter((m): m is ReportDnsMiss => m !== undefined),
    });
  }
  const archiveFile = join(testDir, 'archive.har.gz');
  const archive = existsSync(archiveFile) ? await summarizeArchive(archiveFile) : undefined;
  if (iterations.length === 0 && !archive) return undefined;
  return { iterations, ...(archive ? { archive } : {}) };
}
