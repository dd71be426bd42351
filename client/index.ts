/** The device-side public API (`autotest/client`): what client control files and client tests import. */
export { clientControl, type ClientControlContext, type ClientControlFile } from './control.js';
export { Test, type TestArgs } from '../lib/test.js';
export * from '../lib/errors.js';
