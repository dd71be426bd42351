import { clientControl } from 'autotest/client';

export default clientControl({
  name: 'desktopui_PageScreenshot',
  author: 'autotest maintainers',
  time: 'FAST',
  doc: `Opens a page in headless Chromium (the client browser API), saves a PNG screenshot and records its size and
digest; its DevTools session is logged for session-replay. Args: url=URL size=WIDTHxHEIGHT chromium=PATH.
See docs/session-replay.md.`,
  async run({ job, args }) {
    const { url, size, chromium } = args;
    await job.runTest('desktopui_PageScreenshot', { ...(url ? { url } : {}), ...(size ? { size } : {}), ...(chromium ? { chromium } : {}) });
  },
});
