import { clientControl } from 'autotest/client';

export default clientControl({
  name: 'dummy_Pass',
  author: 'autotest maintainers',
  time: 'FAST',
  doc: 'A client test that always passes. Checks the client harness, packaging and result collection.',
  async run({ job }) {
    await job.runTest('dummy_Pass');
  },
});
