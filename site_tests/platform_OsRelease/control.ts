import { clientControl } from 'autotest/client';

export default clientControl({
  name: 'platform_OsRelease',
  author: 'autotest maintainers',
  time: 'FAST',
  doc: "Reads /etc/os-release, the hostname, kernel and boot id from the device into keyvals. Args: expectId=ID (e.g. debian)",
  async run({ job, args }) {
    await job.runTest('platform_OsRelease', { ...(args.expectId ? { expectId: args.expectId } : {}) });
  },
});
