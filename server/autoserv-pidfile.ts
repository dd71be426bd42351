/**
 * `.autoserv_execute`, the pidfile autoserv keeps in its results folder: the pid while the job runs, then the
 * encoded exit status and the number of tests that did not pass. autotest's TKO parser takes the job's
 * status from it (a folder without one reads as ABORT). Encoding as autotest's pidfile.py:
 * `((exit_code & 0xFF) << 8) | (signal & 0xFF)`.
 */
import { writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/fs-atomic.js';

export const PIDFILE = '.autoserv_execute';

export function startPidfile(resultsDir: string): Promise<void> {
  return writeFile(join(resultsDir, PIDFILE), `${process.pid}\n`);
}

/** Encodes an exit as autotest does; an interruption by a signal is exit 1 with that signal, as autoserv's handler. */
export function encodeExitStatus(exitCode: number, signal?: NodeJS.Signals): number {
  if (signal) return ((1 & 0xff) << 8) | (constants.signals[signal] & 0xff);
  return (exitCode & 0xff) << 8;
}

export function finishPidfile(resultsDir: string, exit: { exitCode: number; signal?: NodeJS.Signals | undefined; testsFailed: number }): Promise<void> {
  return writeFileAtomic(join(resultsDir, PIDFILE), `${process.pid}\n${encodeExitStatus(exit.exitCode, exit.signal)}\n${exit.testsFailed}\n`);
}
