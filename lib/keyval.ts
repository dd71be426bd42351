/**
 * autotest's keyval files: append-only `key=value` lines, keys sorted per write. Typed keys carry `{perf}` or
 * `{attr}`. Iteration keyvals (`results/keyval`) end each iteration with a blank line.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { AutotestError } from './errors.js';

export type KeyvalValue = string | number | boolean;
export type Keyvals = Record<string, KeyvalValue>;

const KEY = /^[-.\w]+$/;

export class KeyvalError extends AutotestError {}

/** Renders keyvals as lines, keys sorted, each key optionally tagged `{perf}` or `{attr}`. */
export function renderKeyvals(values: Keyvals, type?: 'perf' | 'attr'): string {
  const lines: string[] = [];
  for (const key of Object.keys(values).sort()) {
    if (!KEY.test(key)) {
      throw new KeyvalError('ERR_KEYVAL_KEY', `keyval key ${JSON.stringify(key)} is invalid: use letters, digits, '_', '-' and '.'`);
    }
    const value = String(values[key]);
    if (/[\n\r]/.test(value)) {
      throw new KeyvalError('ERR_KEYVAL_VALUE', `keyval ${key} has a newline in its value; keyvals are one line each`);
    }
    lines.push(`${key}${type ? `{${type}}` : ''}=${value}\n`);
  }
  return lines.join('');
}

/** Appends keyvals to a keyval file (autotest never rewrites one). */
export async function writeKeyval(path: string, values: Keyvals, options: { type?: 'perf' | 'attr' } = {}): Promise<void> {
  const text = renderKeyvals(values, options.type);
  if (text) await appendFile(path, text);
}

/**
 * Reads a keyval file as autotest does: `#` comments dropped, later lines win, integers and decimals
 * become numbers. Typed keys keep their `{perf}`/`{attr}` suffix unless `stripTypes` is set.
 */
export function parseKeyvals(text: string, options: { stripTypes?: boolean } = {}): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new KeyvalError('ERR_KEYVAL_SYNTAX', `keyval line ${index + 1} is not key=value: ${JSON.stringify(raw)}`);
    let key = line.slice(0, eq);
    if (options.stripTypes) key = key.replace(/\{(perf|attr)\}$/, '');
    const value = line.slice(eq + 1);
    out[key] = /^-?\d+$/.test(value) ? Number(value) : /^-?\d+\.\d+$/.test(value) ? Number(value) : value;
  });
  return out;
}

export async function readKeyvals(path: string, options: { stripTypes?: boolean } = {}): Promise<Record<string, string | number>> {
  return parseKeyvals(await readFile(path, 'utf8'), options);
}
