/**
 * A test's iteration keyvals (`results/keyval`) one block per iteration: autotest ends each iteration's keys
 * with a blank line. Keys lose their `{perf}`/`{attr}` type here.
 */
import { readFile } from 'node:fs/promises';

export function splitIterationKeyvals(text: string): Record<string, string>[] {
  return text
    .split(/\n\s*\n/)
    .filter((block) => block.trim())
    .map((block) => {
      const values: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) values[line.slice(0, eq).trim().replace(/\{(perf|attr)\}$/, '')] = line.slice(eq + 1).trim();
      }
      return values;
    });
}

/** Recall's totals over a test's playback iterations, or undefined when it wrote none. */
export interface RecallTotals {
  iterations: number;
  hits: number;
  misses: number;
  dnsMisses: number;
}

export async function readRecallTotals(keyvalFile: string): Promise<RecallTotals | undefined> {
  const blocks = splitIterationKeyvals(await readFile(keyvalFile, 'utf8').catch(() => '')).filter((b) => b.recall_hits !== undefined || b.recall_misses !== undefined);
  if (blocks.length === 0) return undefined;
  const sum = (key: string) => blocks.reduce((total, b) => total + (Number(b[key]) || 0), 0);
  return { iterations: blocks.length, hits: sum('recall_hits'), misses: sum('recall_misses'), dnsMisses: sum('recall_dns_misses') };
}
