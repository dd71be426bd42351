import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, openLevelFiles } from '../../lib/logging.js';

describe('debug log files', () => {
  it('writes each record to its level file and above, with autotest’s names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const files = openLevelFiles(dir, 'autoserv');
    const logger = createLogger(files.streams, { component: 'test' });
    logger.debug('fine detail');
    logger.warn({ headers: { authorization: 'Bearer secret' } }, 'something odd');
    files.close();
    const read = (level: string) => readFileSync(join(dir, `autoserv.${level}`), 'utf8');
    expect(read('DEBUG')).toContain('fine detail');
    expect(read('INFO')).not.toContain('fine detail');
    expect(read('WARNING')).toContain('something odd');
    expect(read('WARNING')).not.toContain('Bearer secret');
    expect(read('ERROR')).toBe('');
  });

  it('drops what a logger writes after the files were closed instead of throwing', () => {
    // A host connection closing just after its job ended once crashed autoserv with "SonicBoom destroyed".
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const files = openLevelFiles(dir, 'late');
    const logger = createLogger(files.streams);
    files.close();
    expect(() => logger.info('connection closed')).not.toThrow();
    expect(readFileSync(join(dir, 'late.INFO'), 'utf8')).toBe('');
  });
});
