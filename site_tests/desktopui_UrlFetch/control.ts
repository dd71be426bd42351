import { clientControl } from 'autotest/client';

export default clientControl({
  name: 'desktopui_UrlFetch',
  author: 'autotest maintainers',
  time: 'SHORT',
  doc: `Loads URLs in headless Chromium over the DevTools pipe and checks each page's status, load and scripts; records
status, bytes, load time and a digest of the page per URL. Args: urls=URL,URL (default: the lab's sites)
expect=URL=STATUS,URL=STATUS (default 200) load_timeout_ms=N chromium=PATH iterations=N. See docs/url-fetch.md.`,
  async run({ job, args }) {
    const { urls, expect, load_timeout_ms, chromium, iterations } = args;
    await job.runTest('desktopui_UrlFetch', {
      ...(urls ? { urls } : {}),
      ...(expect ? { expect } : {}),
      ...(load_timeout_ms ? { load_timeout_ms } : {}),
      ...(chromium ? { chromium } : {}),
      ...(iterations ? { iterations: Number(iterations) } : {}),
    });
  },
});
