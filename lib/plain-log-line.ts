/**
 * The plain-text twin of a pino JSON log line, in the spirit of autotest's `debug/autoserv.DEBUG`:
 * `11/29 19:30:01.123 INFO  [dev1 dummy_Pass] message`, then an error's stack as indented lines.
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Bound fields worth showing in front of the message: who the line is about. */
const CONTEXT = ['machine', 'host', 'test', 'component'] as const;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function localTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Formats one JSON line; a line that is not JSON is kept as it is. */
export function plainLogLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof record.time === 'number' ? localTime(record.time) : '';
  const level = (LEVELS[record.level as number] ?? String(record.level)).padEnd(5);
  const context = CONTEXT.map((key) => record[key]).filter((v) => typeof v === 'string' && v !== '');
  const where = context.length ? `[${[...new Set(context)].join(' ')}] ` : '';
  const msg = typeof record.msg === 'string' ? record.msg : '';
  const err = record.err as { stack?: unknown; message?: unknown } | undefined;
  const stack = typeof err?.stack === 'string' ? err.stack : typeof err?.message === 'string' ? err.message : '';
  const extra = stack && !msg.includes(stack) ? stack.split('\n').map((line) => `    ${line}\n`).join('') : '';
  return `${time} ${level} ${where}${msg.replace(/\n/g, '\n    ')}\n${extra}`;
}
