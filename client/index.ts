/** The device-side public API (`autotest/client`): what client control files and client tests import. */
export { clientControl, type ClientControlContext, type ClientControlFile } from './control.js';
export { ClientJob, runClientJob } from './client-job.js';
export { runClientHarness } from './harness.js';
export { Test, type TestArgs, type TestEnvironment } from '../lib/test.js';
export type { RunTestArgs } from '../lib/job.js';
export * from '../lib/errors.js';
export { RecallContext, withRecall, RECALL_CA_PATH, type RecallContextOptions } from './recall-context.js';
export { RecallContextError } from './recall-context-error.js';
export * from './browser/index.js';
