/**
 * Structured logging with pino. A job writes one file per level under `debug/`, with autotest's names
 * (`autoserv.DEBUG`, `autoserv.INFO`, `autoserv.WARNING`, `autoserv.ERROR`), each holding its level and above,
 * as pino JSON, and beside each a plain-text twin for people (`autoserv.DEBUG.txt`: time, level, message).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger, type DestinationStream, type StreamEntry } from 'pino';
import { plainLogLine } from './plain-log-line.js';

export type { Logger } from 'pino';

/** A logger that writes nothing: the default for library code that was given none. */
export const silentLogger: Logger = pino({ level: 'silent' });

const LEVEL_FILES = [
  ['DEBUG', 'debug'],
  ['INFO', 'info'],
  ['WARNING', 'warn'],
  ['ERROR', 'error'],
] as const;

/** Paths and values that must never reach a log file. */
export const REDACT_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'request.headers.authorization',
  'request.headers.cookie',
  'password',
  'privateKey',
  'passphrase',
];

export interface LevelFiles {
  /** The streams, to share with another logger (a test's logger also writes to the job's files). */
  readonly streams: StreamEntry[];
  /** Flushes and closes the files. */
  close(): void;
}

type SonicBoom = ReturnType<typeof pino.destination>;

/** Debug-level files hold a line per request or DNS answer: batched, so logging costs no system call per line. */
const DEBUG_BATCH_BYTES = 8192;
const DEBUG_FLUSH_MS = 500;
const batched = new Set<SonicBoom>();
let flushTimer: NodeJS.Timeout | undefined;
// An uncaught exception or process.exit() still writes what is batched; only SIGKILL loses it (≤ 0.5 s of debug).
const flushAllNow = (): void => {
  for (const stream of batched) stream.flushSync();
};

/**
 * Opens `<dir>/<name>.DEBUG` … `<name>.ERROR` (and their `.txt` twins) for appending. Writes are synchronous so a
 * crash loses nothing; the DEBUG pair batches them (written at 8 KiB, every 0.5 s, on close and at exit).
 */
export function openLevelFiles(dir: string, name: string): LevelFiles {
  mkdirSync(dir, { recursive: true });
  let closed = false;
  const open = (dest: string, level: string): SonicBoom => {
    const minLength = level === 'debug' ? DEBUG_BATCH_BYTES : 0;
    const stream = pino.destination({ dest, sync: true, mkdir: true, append: true, minLength });
    if (minLength > 0) batched.add(stream);
    return stream;
  };
  const files = LEVEL_FILES.map(([suffix, level]) => ({
    level,
    file: open(join(dir, `${name}.${suffix}`), level),
    text: open(join(dir, `${name}.${suffix}.txt`), level),
  }));
  if (batched.size > 0 && !flushTimer) {
    process.on('exit', flushAllNow);
    flushTimer = setInterval(() => {
      for (const stream of batched) stream.flush();
    }, DEBUG_FLUSH_MS).unref();
  }
  return {
    // Loggers outlive the job now and then (a host connection that closes a moment later logs it):
    // what they write after close() is dropped instead of throwing at a destroyed file.
    streams: files.map(({ level, file, text }) => ({
      level,
      stream: {
        write(line: string) {
          if (closed) return;
          file.write(line);
          text.write(plainLogLine(line));
        },
      },
    })),
    close() {
      closed = true;
      for (const { file, text } of files) {
        // end() writes what is batched synchronously, then closes.
        file.end();
        text.end();
        batched.delete(file);
        batched.delete(text);
      }
      if (batched.size === 0 && flushTimer) {
        clearInterval(flushTimer);
        flushTimer = undefined;
        process.off('exit', flushAllNow);
      }
    },
  };
}

/** A debug-level logger writing to the given streams (and, optionally, one more such as stderr). */
export function createLogger(
  streams: StreamEntry[],
  bindings: Record<string, unknown> = {},
  extra?: DestinationStream,
): Logger {
  const all: StreamEntry[] = extra ? [...streams, { level: 'info', stream: extra }] : streams;
  return pino(
    { level: 'debug', base: bindings, redact: REDACT_PATHS },
    pino.multistream(all, { dedupe: false }),
  );
}
