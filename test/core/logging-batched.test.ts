// The DEBUG level files take a line per request and DNS answer in a Recall fixture: they are batched, so the
// request path makes no system call per line, and nothing batched is lost on close or when the process exits.
import fs, { mkdtempSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, openLevelFiles } from '../../lib/logging.js';

const LOGGING = new URL('../../dist/lib/logging.js', import.meta.url).href;
const lines = (text: string) => text.split('\n').filter(Boolean);

describe('batched debug log files', () => {
  it('writes debug lines without a system call each, and all of them in order on close', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-batched-'));
    const files = openLevelFiles(dir, 'autoserv');
    const logger = createLogger(files.streams);
    const writes = vi.spyOn(fs, 'writeSync');
    try {
      for (let i = 0; i < 20; i++) logger.debug({ i }, `request ${i}`);
      expect(writes).not.toHaveBeenCalled();
      logger.warn('a warning is written at once');
      expect(readFileSync(join(dir, 'autoserv.WARNING'), 'utf8')).toContain('a warning is written at once');
    } finally {
      writes.mockRestore();
    }
    files.close();
    const debug = lines(readFileSync(join(dir, 'autoserv.DEBUG'), 'utf8')).map((l) => JSON.parse(l).msg);
    expect(debug).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `request ${i}`),
      'a warning is written at once',
    ]);
    expect(lines(readFileSync(join(dir, 'autoserv.DEBUG.txt'), 'utf8'))).toHaveLength(21);
  });

  it('loses nothing batched when the process dies of an uncaught exception without closing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-exit-'));
    const script = `
      const { createLogger, openLevelFiles } = await import(${JSON.stringify(LOGGING)});
      const logger = createLogger(openLevelFiles(${JSON.stringify(dir)}, 'autoserv').streams);
      for (let i = 0; i < 5; i++) logger.debug('line ' + i);
      setTimeout(() => { throw new Error('crash'); }, 0);`;
    expect(() =>
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' }),
    ).toThrow(/crash/);
    const debug = lines(readFileSync(join(dir, 'autoserv.DEBUG'), 'utf8')).map((l) => JSON.parse(l).msg);
    expect(debug).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });
});
