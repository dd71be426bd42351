import { createHash, randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BrowserError, BrowserSession, Test, TestError, TestFail } from 'autotest/client';

export interface PageScreenshotArgs {
  /** The page to photograph. @default 'https://static.lab.test/' */
  url?: string;
  /** Viewport size, `WIDTHxHEIGHT`. @default '800x600' */
  size?: string;
  /** The Chromium executable. @default '/usr/bin/chromium' */
  chromium?: string;
  /** More Chromium flags: a list, or one string of `--flag` words. */
  chromium_flags?: string | readonly string[];
  [key: string]: unknown;
}

function sizeOf(value: string | undefined): { width: number; height: number } {
  const match = /^(\d{2,4})x(\d{2,4})$/.exec(value ?? '800x600');
  if (!match) throw new TestError(`size: ${JSON.stringify(value)} is not WIDTHxHEIGHT (e.g. 1024x768)`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

function flagsOf(value: PageScreenshotArgs['chromium_flags']): string[] {
  if (value === undefined || value === '') return [];
  return typeof value === 'string' ? value.split(/\s+(?=--)/) : [...value];
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } | undefined {
  const signature = '89504e470d0a1a0a';
  if (png.length < 24 || png.subarray(0, 8).toString('hex') !== signature) return undefined;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * The browser API's example test: opens a page in headless Chromium, reads its title, takes a PNG screenshot
 * (results/screenshot.png) and records its size and digest. Its clock and a random label are its initial state:
 * stored with the DevTools session, so a replay gets the same and writes the same keyvals (docs/session-replay.md).
 */
export class desktopui_PageScreenshot extends Test<PageScreenshotArgs> {
  async runOnce(args: PageScreenshotArgs): Promise<void> {
    const url = args.url ?? 'https://static.lab.test/';
    try {
      new URL(url);
    } catch {
      throw new TestError(`url: ${JSON.stringify(url)} is not a URL`);
    }
    const { width, height } = sizeOf(args.size);
    const session = BrowserSession.forTest(this, args);
    const state = session.initialState({ taken_at: new Date().toISOString(), label: `shot-${randomInt(1_000_000)}` });
    let browser;
    try {
      browser = await session.launch({ extraFlags: [`--window-size=${width},${height}`, ...flagsOf(args.chromium_flags)], ...(args.chromium ? { executable: args.chromium } : {}) });
    } catch (error) {
      throw new TestError(error instanceof BrowserError ? error.message : `Chromium did not start: ${(error as Error).message}`, { cause: error });
    }
    try {
      const page = await browser.newPage();
      await page.setViewport(width, height);
      const navigation = await page.navigate(url);
      if (navigation.errorText) throw new TestFail(`${url} did not load: ${navigation.errorText}`);
      const title = await page.evaluate<string>('document.title');
      const png = await page.screenshot();
      await writeFile(join(this.resultsDir, `screenshot.${this.iteration}.png`), png);
      const shape = pngSize(png);
      if (!shape) throw new TestFail('the screenshot is not a PNG');
      await this.writeIterationKeyval(
        { url, title, taken_at: state.taken_at, label: state.label, screenshot_sha256: createHash('sha256').update(png).digest('hex') },
        { screenshot_bytes: png.length, screenshot_width: shape.width, screenshot_height: shape.height },
      );
      if (shape.width !== width || shape.height !== height) throw new TestFail(`the screenshot is ${shape.width}x${shape.height}, expected ${width}x${height}`);
      await page.close();
    } finally {
      await browser.close();
    }
  }
}
