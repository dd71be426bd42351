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
    if (!/^\w+$/.test(key)) throw new TypeError(`status.log field names are word characters only (TKO reads no other), got ${JSON.stringify(key)}`);
    fields.push(`${key}=${checkField(`field ${key}`, value)}`);
  }
  const [first = '', ...rest] = entry.message.split(/\r?\n/);
  const message = escapeMessage(first.replace(/\t/g, ' '.repeat(8)).replace(/[\r\v\f]/g, ' '));
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

/** A column TKO's version_1 parser reads as an optional field (`key=value`, key of word characters). */
const FIELD = /^(\w+)=(.*)$/s;

/** autotest's `is_status_line`: three TAB-terminated columns, the first starting with a non-space. */
const STATUS_LINE = /^\t*(\S[^\t]*\t){3}/;

/**
 * Parses one status line as autotest's version_1 parser does: the columns after OPERATION are fields while
 * they look like `key=value`; the first one that does not starts the message, which runs to the end of the
 * line (so a line without a message column has an empty message). Returns undefined for anything that is
 * not a status line (continuation lines, blank lines, fewer than three columns, an unknown status word).
 */
export function parseStatusLine(line: string): ParsedStatusLine | undefined {
  const text = line.replace(/\r?\n$/, '');
  if (!STATUS_LINE.test(text)) return undefined;
  const indent = /^\t*/.exec(text)![0].length;
  const columns = text.slice(indent).split('\t');
  const [status, subdir, operation] = columns as [string, string, string];
  if (!isStatusWord(status)) return undefined;
  const fields: Record<string, string> = {};
  let index = 3;
  for (; index < columns.length; index++) {
    const field = FIELD.exec(columns[index]!);
    if (!field) break;
    fields[field[1]!] = field[2]!;
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
    message: unescapeMessage(columns.slice(index).join('\t')),
    indent,
    extra: [],
  };
}

/**
 * TKO reads any column shaped `key=value` as a field, so a message such as `rc=1` would be lost as a field:
 * we write it after one space (`\x20rc=1`), which TKO keeps as the reason and our parser removes again.
 */
function escapeMessage(message: string): string {
  return /^ *\w+=/.test(message) ? ` ${message}` : message;
}

function unescapeMessage(message: string): string {
  return /^ +\w+=/.test(message) ? message.slice(1) : message;
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
