/** The browser API of client tests (docs/session-replay.md): headless Chromium over the DevTools pipe, logged and replayable. */
export { CdpConnection, CdpError, type CdpCommand, type CdpEvent, type CdpIncoming, type CdpTap, type CdpTransport, type SendOptions } from './cdp-connection.js';
export { PipeTransport } from './pipe-transport.js';
export { BrowserError, CHROMIUM_FLAGS, DEFAULT_CHROMIUM } from './chromium-process.js';
export { Browser, type LaunchOptions } from './browser.js';
export { Page, type Navigation } from './page.js';
export { BrowserSession, DEVTOOLS_REPLAY_ENV, devtoolsReplayMisses } from './browser-session.js';
export * from './session-log-format.js';
export { SessionLog, SessionLogError, type LoggedBrowser } from './session-log-reader.js';
export { SessionLogWriter } from './session-log-writer.js';
export { LogReplayTransport, type ReplayMiss } from './log-replay-transport.js';
export { jsonDiff, describeDifferences, type JsonDifference } from './json-diff.js';
