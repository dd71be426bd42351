// Builds a real ServerJob over a temporary results folder for core tests.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, openLevelFiles } from '../../lib/logging.js';
import { ServerJob } from '../../server/server-job.js';

export const fixtureTestsDir = fileURLToPath(new URL('../fixtures/tests', import.meta.url));

export function makeJob(options: { machines?: string[]; signal?: AbortSignal } = {}) {
  const resultsDir = mkdtempSync(join(tmpdir(), 'autotest-job-'));
  const files = openLevelFiles(join(resultsDir, 'debug'), 'autoserv');
  const job = new ServerJob({
    resultsDir,
    machines: options.machines ?? [],
    testsDirs: [fixtureTestsDir],
    logger: createLogger(files.streams),
    logStreams: files.streams,
    signal: options.signal,
    setupStateDir: join(resultsDir, '.setup'),
  });
  const statusLog = () => readFileSync(join(resultsDir, 'status.log'), 'utf8');
  return { job, resultsDir, statusLog, close: () => files.close() };
}
