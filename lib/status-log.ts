/**
 * autotest's status.log grammar, written and read:
 *
 *   INDENT STATUS TAB SUBDIR TAB OPERATION (TAB key=value)* TAB MESSAGE NL ("  " continuation NL)*
 *
 * INDENT is one TAB per open group. `----` stands for a missing subdir or operation. We write `timestamp=`
 * then `localtime=` (generate_test_report reads the reason positionally) but read fields in any order.
 */
import { isTestStatus, type TestStatus } from './status.js';

export const NONE = '----';
const BAD_CHARS = /[\t\n\r\v\f]/;

export type StatusWord = 'START' | 'INFO' | TestStatus | `END ${TestStatus}`;

export interface StatusLogEntry {
  status: StatusWord;
  subdir?: string | undefined;
  operation?: string | undefined;
  /** Extra fields besides timestamp and localtime (kernel=, timeout=, …). */
  fields?: Record<string, string>;
  /** Seconds since the epoch. */
  timestamp: number;
  message: string;
}

export interface ParsedStatusLine extends StatusLogEntry {
  /** Nesting depth: the number of leading TABs. */
  indent: number;
  /** Continuation lines that followed (without their two leading spaces). */
  extra: string[];
}

export function isStatusWord(word: string): word is StatusWord {
  if (word === 'START' || word === 'INFO') return true;
  return isTestStatus(word.startsWith('END ') ? word.slice(4) : word);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** strftime('%b %d %H:%M:%S') in local time, as autotest writes `localtime=`. */
export function formatLocaltime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function checkField(what: string, value: string): string {
  if (BAD_CHARS.test(value)) {
    throw new TypeError(`status.log ${what} must not contain TAB or newline characters, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Renders one entry (and its continuation lines) at the given indent, ending with a newline. */
export function renderStatusLine(entry: StatusLogEntry, indent: number): string {
  const fields: string[] = [`timestamp=${entry.timestamp}`, `localtime=${formatLocaltime(entry.timestamp)}`];
  for (const [key, value] of Object.entries(entry.fields ?? {})) {
    if (key === 'timestamp' || key === 'localtime') continue;
    fields.push(`${checkField('field name', key)}=${checkField(`field ${key}`, value)}`);
  }
  const [first = '', ...rest] = entry.message.split(/\r?\n/);
  const message = first.replace(/\t/g, ' '.repeat(8)).replace(/[\r\v\f]/g, ' ');
  const columns = [
    entry.status,
    checkField('subdir', entry.subdir ?? NONE),
    checkField('operation', entry.operation ?? NONE),
    ...fields,
    message,
  ];
  const extra = rest.map((line) => `  ${line}\n`).join('');
  return `${'\t'.repeat(indent)}${columns.join('\t')}\n${extra}`;
}

/**
 * Parses one status line. Returns undefined for a line that is not a status line (continuation lines,
 * blank lines, anything with fewer than four columns or an unknown status word).
 */
export function parseStatusLine(line: string): ParsedStatusLine | undefined {
  if (line.startsWith('  ') || line.trim() === '') return undefined;
  const indent = /^\t*/.exec(line)![0].length;
  const columns = line.slice(indent).replace(/\r?\n$/, '').split('\t');
  if (columns.length < 4) return undefined;
  const [status, subdir, operation] = columns as [string, string, string];
  if (!isStatusWord(status)) return undefined;
  const message = columns[columns.length - 1]!;
  const fields: Record<string, string> = {};
  for (const column of columns.slice(3, -1)) {
    const eq = column.indexOf('=');
    if (eq > 0) fields[column.slice(0, eq)] = column.slice(eq + 1);
  }
  const timestamp = Number(fields.timestamp ?? NaN);
  delete fields.timestamp;
  delete fields.localtime;
  return {
    status,
    subdir: subdir === NONE ? undefined : subdir,
    operation: operation === NONE ? undefined : operation,
    fields,
    timestamp: Number.isFinite(timestamp) ? timestamp : 0,
    message,
    indent,
    extra: [],
  };
}

/** Parses a whole status.log, attaching continuation lines to the line before them. */
export function parseStatusLog(text: string): ParsedStatusLine[] {
  const lines: ParsedStatusLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw.startsWith('  ') && lines.length > 0) {
      lines[lines.length - 1]!.extra.push(raw.slice(2));
      continue;
    }
    const parsed = parseStatusLine(raw);
    if (parsed) lines.push(parsed);
  }
  return lines;
}
