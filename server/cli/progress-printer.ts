/**
 * run-remote's progress while tests run: which test runs on which host, how many of the test × host runs are
 * done (`N of M`), and the elapsed time. On a terminal it is one line, redrawn every second and on every
 * status change; otherwise (CI logs, pipes) a plain line per start and end. With -v every status line.
 */
import type { StatusLogEntry } from '../../lib/status-log.js';
import { formatDuration } from '../summary-table.js';
import { statusPrinter } from './status-printer.js';

export interface ProgressOptions {
  /** How many test × host runs there are in all. */
  total: number;
  /** One updating line (a terminal) or plain lines. */
  tty: boolean;
  verbose: boolean;
  /** Terminal width, to keep the line on one row. @default 120 */
  columns?: number;
  now?: () => number;
}

export interface Progress {
  /** A test job starts on these hosts. */
  startTest(test: string, hosts: readonly string[]): void;
  onStatus(entry: StatusLogEntry, indent: number, machine?: string): void;
  /** The test job ended; its hosts count as done. */
  endTest(exitCode: number): void;
  /** Clears the updating line (before the summary is printed). */
  stop(): void;
}

export function progressPrinter(out: NodeJS.WritableStream, options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const started = now();
  const elapsed = () => formatDuration(now() - started);
  const verbosePrinter = options.verbose ? statusPrinter(out) : undefined;
  let done = 0;
  let test = '';
  let hosts: readonly string[] = [];
  /** Per host, the innermost group running and since when. */
  const running = new Map<string, { name: string; since: number }[]>();
  let timer: NodeJS.Timeout | undefined;

  const head = () => `[${done} of ${options.total} done, ${elapsed()}]`;
  const draw = () => {
    const where = hosts.map((host) => {
      const top = running.get(host)?.at(-1);
      return top ? `${host} ${top.name} ${formatDuration(now() - top.since)}` : `${host} …`;
    });
    const line = `${head()} ${test}: ${where.join(' | ')}`;
    const width = (options.columns ?? 120) - 1;
    out.write(`\r\x1b[K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
  };
  const say = (text: string) => {
    if (options.tty) {
      out.write(`\r\x1b[K${text}\n`);
      draw();
    } else out.write(`${text}\n`);
  };

  return {
    startTest(name, on) {
      test = name;
      hosts = on;
      running.clear();
      if (verbosePrinter) return void out.write(`${head()} ${name} on ${on.join(', ')}: starting\n`);
      if (options.tty) {
        timer ??= setInterval(draw, 1000);
        timer.unref();
        draw();
      } else say(`${head()} ${name} on ${on.join(', ')}: starting`);
    },
    onStatus(entry, indent, machine) {
      if (verbosePrinter) return verbosePrinter(entry, indent, machine);
      const host = machine ?? hosts[0] ?? '';
      const stack = running.get(host) ?? [];
      running.set(host, stack);
      const name = entry.operation ?? entry.subdir;
      if (entry.status === 'START' && name) {
        stack.push({ name, since: now() });
        if (options.tty) draw();
        else say(`${head()} ${host}: ${name} running`);
      } else if (entry.status.startsWith('END ') && name) {
        stack.pop();
        const status = entry.status.slice(4);
        if (options.tty) {
          if (status !== 'GOOD') say(`${head()} ${host}: ${name} ${status}`);
          else draw();
        } else say(`${head()} ${host}: ${name} ${status}`);
      }
    },
    endTest(exitCode) {
      done += hosts.length;
      say(`${head()} ${test}: finished (exit code ${exitCode})`);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (options.tty) out.write('\r\x1b[K');
    },
  };
}
