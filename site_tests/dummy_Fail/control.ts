import { clientControl } from 'autotest/client';

export default clientControl({
  name: 'dummy_Fail',
  author: 'autotest maintainers',
  time: 'FAST',
  doc: 'A client test that always fails (FAIL). Args: message=TEXT',
  async run({ job, args }) {
    await job.runTest('dummy_Fail', { ...(args.message ? { message: args.message } : {}) });
  },
});
