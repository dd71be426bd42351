/**
 * The public API (`autotest`): what control files, tests and tools import. Server-only pieces live in
 * `autotest/server`, device-only ones in `autotest/client`; both are re-exported here for server code.
 */
export * from './lib/errors.js';
export { Test, type TestArgs, type TestEnvironment } from './lib/test.js';
export { Job, type RunTestArgs } from './lib/job.js';
export { TEST_STATUSES, isPassing, worstStatus, type TestStatus } from './lib/status.js';
export { parseStatusLog, renderStatusLine, type StatusLogEntry, type ParsedStatusLine } from './lib/status-log.js';
export { parseKeyvals, readKeyvals, writeKeyval, type Keyvals } from './lib/keyval.js';
export { parseControlArgs, type ControlArgs } from './lib/args.js';
export type { ControlMetadata, TestTime, TestType } from './lib/control-file.js';
export { collectTestResults, type TestResult, type JobOutcome } from './lib/results/test-results.js';
export * from './server/index.js';
export { clientControl, type ClientControlContext } from './client/control.js';
