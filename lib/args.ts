/**
 * Parses autoserv's `-a 'word key=value key2="a b"'` into control-file arguments: positional words in `_`,
 * `key=value` pairs as string properties (values may contain `=`; quotes group words). Values stay strings:
 * a control file decides what `num_iterations=100` means.
 */
import { AutotestError } from './errors.js';

export type ControlArgs = Readonly<Record<string, string>> & { readonly _: readonly string[] };

export class ArgsError extends AutotestError {}

/** Splits like a POSIX shell does for words and quotes (no expansion). */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && (text[i + 1] === '"' || text[i + 1] === '\\')) current += text[++i];
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new ArgsError('ERR_ARGS_QUOTE', `unclosed ${quote} quote in arguments: ${text}`);
  if (inWord) words.push(current);
  return words;
}

/** Turns words into ControlArgs. `key=value` needs a key of letters, digits and `_`/`-`/`.`. */
export function parseControlArgs(input: string | readonly string[]): ControlArgs {
  const words = typeof input === 'string' ? splitWords(input) : input.flatMap((w) => splitWords(w));
  const positional: string[] = [];
  const named: Record<string, string> = {};
  for (const word of words) {
    const match = /^([A-Za-z][\w.-]*)=(.*)$/s.exec(word);
    if (match) named[match[1]!] = match[2]!;
    else positional.push(word);
  }
  return Object.freeze({ ...named, _: Object.freeze(positional) }) as ControlArgs;
}

/** Renders args back into one `-a` string, quoting where needed. */
export function formatControlArgs(args: ControlArgs): string {
  const quote = (s: string) => (/^[\w.,:/@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const named = Object.entries(args).filter(([k]) => k !== '_');
  return [...args._.map(quote), ...named.map(([k, v]) => `${k}=${quote(String(v))}`)].join(' ');
}
