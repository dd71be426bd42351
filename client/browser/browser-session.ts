/**
 * A test's browser session: every browser the test launches is logged to `<test results>/devtools.jsonl`
 * (fetched back with the other results), together with the initial state the test stores. When the
 * AUTOTEST_DEVTOOLS_REPLAY variable names a log, the same calls replay that log instead: `launch` starts no
 * Chromium and answers from the log, and `initialState` gives back the logged values.
 */
import { join } from 'node:path';
import type { Test, TestArgs } from '../../lib/test.js';
import { Browser, type LaunchOptions } from './browser.js';
import { LogReplayTransport, type ReplayMiss } from './log-replay-transport.js';
import { SESSION_LOG_FILE } from './session-log-format.js';
import { SessionLog, SessionLogError } from './session-log-reader.js';
import { SessionLogWriter } from './session-log-writer.js';

/** Names the session log to replay instead of launching browsers (set by `session-replay devtools`). */
export const DEVTOOLS_REPLAY_ENV = 'AUTOTEST_DEVTOOLS_REPLAY';

/** Commands the replayed log could not answer, shared across module copies (the client bundle, dist/). */
export function devtoolsReplayMisses(): ReplayMiss[] {
  const key = Symbol.for('autotest.devtools-replay.misses');
  const store = globalThis as unknown as Record<symbol, ReplayMiss[] | undefined>;
  return (store[key] ??= []);
}

const sessions = new WeakMap<Test<any>, BrowserSession>();

export class BrowserSession {
  readonly #writer: SessionLogWriter | undefined;
  readonly #replay: SessionLog | undefined;
  #launched = 0;

  private constructor(writer: SessionLogWriter | undefined, replay: SessionLog | undefined) {
    this.#writer = writer;
    this.#replay = replay;
  }

  /** The session of `test` (one per test run, shared by its iterations), logging or replaying. */
  static forTest<A extends TestArgs>(test: Test<A>, args: A): BrowserSession {
    let session = sessions.get(test);
    if (!session) {
      const replayPath = process.env[DEVTOOLS_REPLAY_ENV];
      if (replayPath) {
        const log = SessionLog.read(replayPath);
        if (log.header.test !== test.name) {
          throw new SessionLogError('ERR_SESSION_LOG_TEST', `${replayPath} is the session of ${log.header.test}, not of ${test.name}: replay it with its own test`);
        }
        session = new BrowserSession(undefined, log);
      } else {
        session = new BrowserSession(SessionLogWriter.open(join(test.outputDir, SESSION_LOG_FILE), { test: test.name, args, iterations: test.iterations }), undefined);
      }
      sessions.set(test, session);
    }
    return session;
  }

  /** True when this session answers from a log rather than a browser. */
  get replaying(): boolean {
    return this.#replay !== undefined;
  }

  /**
   * Values the test depends on that differ from run to run (its clock, a random seed): stored with the session
   * on a live run and returned as given; on replay, the stored values come back instead.
   */
  initialState<T extends Record<string, unknown>>(live: T): T {
    if (this.#replay) {
      if (!this.#replay.initialState) throw new SessionLogError('ERR_SESSION_LOG_NO_STATE', `${this.#replay.path} holds no initial state: the run that made it stored none`);
      return { ...live, ...this.#replay.initialState } as T;
    }
    this.#writer!.write({ type: 'initial-state', values: live });
    return live;
  }

  /** Launches a logged Chromium, or on replay the next browser of the log. */
  async launch(options: Omit<LaunchOptions, 'log'> = {}): Promise<Browser> {
    if (!this.#replay) return Browser.launch({ ...options, log: this.#writer });
    const logged = this.#replay.browsers[this.#launched];
    if (!logged) {
      throw new SessionLogError('ERR_SESSION_LOG_NO_BROWSER', `${this.#replay.path} holds ${this.#replay.browsers.length} browser session(s); the test launched browser ${this.#launched + 1}`);
    }
    this.#launched += 1;
    const transport = new LogReplayTransport(this.#replay, logged, (miss) => devtoolsReplayMisses().push(miss));
    const log = this.#replay.path;
    // A test that stops short of what the lab run did is a divergence too.
    const onClosed = () => {
      const unsent = transport.unsent();
      if (unsent.length === 0) return;
      const first = unsent[0]!;
      const message = `the test closed browser ${logged.browser} without sending ${unsent.length} logged command(s) of ${log}, the first ${first.method} at line ${first.line}`;
      devtoolsReplayMisses().push({ browser: logged.browser, method: first.method, message });
    };
    const browser = Browser.over(transport, { onClosed });
    await browser.version(options.timeoutMs);
    return browser;
  }
}
