/** The server-side public API: what server control files and server tests import (`autotest/server`). */
export { serverControl, type ServerControlContext, type ServerControlFile } from './control.js';
export { ServerJob } from './server-job.js';
export { parallelSimple, type MachineResult, type ParallelSimpleOptions } from './parallel-simple.js';
export { autoserv, EXIT, type AutoservOptions, type AutoservResult } from './autoserv.js';
export * from './hosts/index.js';
export { RecallServerTest, type RecallServerArgs } from './recall-server-test.js';
export { Autotest, type AutotestOptions, type ClientRunOptions, type ClientRunResult } from './autotest.js';
