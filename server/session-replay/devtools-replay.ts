/**
 * DevTools-side replay: the client test's own code runs here, on the server, with its browser replaced by the
 * run's session log (AUTOTEST_DEVTOOLS_REPLAY), so no Chromium starts. Its status and keyvals are compared with
 * the lab run's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientJob } from '../../client/client-job.js';
import { DEVTOOLS_REPLAY_ENV, devtoolsReplayMisses, jsonDiff, type JsonDifference, type ReplayMiss, type SessionLog } from '../../client/index.js';
import { parseKeyvals } from '../../lib/keyval.js';
import { createLogger, openLevelFiles } from '../../lib/logging.js';
import { builtInTestsDir } from '../../lib/package-root.js';
import { collectTestResults } from '../../lib/results/test-results.js';
import type { TestStatus } from '../../lib/status.js';

export interface DevtoolsReplayResult {
  readonly test: string;
  readonly status: TestStatus;
  /** The lab run's status, from the client status file fetched with the results (undefined when absent). */
  readonly labStatus: TestStatus | undefined;
  /** Where the replayed run's results are. */
  readonly outputDir: string;
  readonly keyvalDifferences: readonly JsonDifference[];
  readonly misses: readonly ReplayMiss[];
}

/** `results/keyval` as one object per iteration. */
export function iterationKeyvals(file: string): Record<string, string | number>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split(/\n\s*\n/)
    .filter((block) => block.trim())
    .map((block) => parseKeyvals(block));
}

export async function replayDevtoolsSide(log: SessionLog, testDir: string, options: { testsDirs?: readonly string[]; outDir?: string } = {}): Promise<DevtoolsReplayResult> {
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), 'session-replay-')));
  const files = openLevelFiles(join(outDir, 'debug'), 'client');
  const job = new ClientJob({
    resultsDir: outDir,
    testsDirs: [...(options.testsDirs ?? []), builtInTestsDir],
    logger: createLogger(files.streams, { component: 'session-replay' }),
    logStreams: files.streams,
    statusFileName: 'status',
    setupStateDir: join(outDir, '.setup'),
  });
  const misses = devtoolsReplayMisses();
  misses.length = 0;
  const previous = process.env[DEVTOOLS_REPLAY_ENV];
  process.env[DEVTOOLS_REPLAY_ENV] = log.path;
  let status: TestStatus;
  try {
    const { tag } = log;
    status = await job.runTestDetail(log.testName, { ...log.header.args, ...(tag ? { tag } : {}), iterations: log.header.iterations });
  } finally {
    if (previous === undefined) delete process.env[DEVTOOLS_REPLAY_ENV];
    else process.env[DEVTOOLS_REPLAY_ENV] = previous;
    files.close();
  }
  const outputDir = join(outDir, log.header.test);
  const labStatusFile = join(testDir, 'client.status');
  const labStatus = existsSync(labStatusFile) ? collectTestResults(readFileSync(labStatusFile, 'utf8')).tests.find((t) => t.name === log.header.test)?.status : undefined;
  const keyvalDifferences = jsonDiff(iterationKeyvals(join(testDir, 'results', 'keyval')), iterationKeyvals(join(outputDir, 'results', 'keyval')), { path: 'iteration', limit: 50 });
  return { test: log.header.test, status, labStatus, outputDir, keyvalDifferences, misses: [...misses] };
}
