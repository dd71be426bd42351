/** run-remote's progress: which test runs on which host, and for how long; every status line with -v. */
import type { StatusLogEntry } from '../../lib/status-log.js';
import { statusPrinter } from './status-printer.js';

export function progressPrinter(out: NodeJS.WritableStream, test: string, hosts: readonly string[], verbose: boolean) {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`.padStart(7);
  const verbosePrinter = verbose ? statusPrinter(out) : undefined;
  out.write(`${elapsed()}  ${test} on ${hosts.join(', ')}: starting\n`);
  return {
    onStatus(entry: StatusLogEntry, indent: number, machine?: string) {
      if (verbosePrinter) return verbosePrinter(entry, indent, machine);
      const host = machine ?? hosts[0] ?? '';
      if (entry.status === 'START' && entry.operation) out.write(`${elapsed()}  ${host}: ${entry.operation} running\n`);
      else if (entry.status.startsWith('END ') && entry.operation) out.write(`${elapsed()}  ${host}: ${entry.operation} ${entry.status.slice(4)}\n`);
    },
    done(exitCode: number) {
      out.write(`${elapsed()}  ${test}: finished (exit code ${exitCode})\n`);
    },
  };
}
