/** Prints status lines as a job runs, indented like status.log, with the machine when there are several. */
import type { StatusLogEntry } from '../../lib/status-log.js';

export function statusPrinter(out: NodeJS.WritableStream): (entry: StatusLogEntry, indent: number, machine?: string) => void {
  return (entry, indent, machine) => {
    const time = new Date(entry.timestamp * 1000).toTimeString().slice(0, 8);
    const who = machine ? `[${machine}] ` : '';
    const what = [entry.status.padEnd(9), entry.operation ?? '', entry.message].filter(Boolean).join(' ');
    out.write(`${time} ${who}${'  '.repeat(indent)}${what}\n`);
  };
}
