/**
 * Client-side replay: the logged commands re-issued, in order, to a fresh Chromium. Before each command the
 * replay waits for the events the log saw before it; IDs the new browser mints are learnt from its answers and
 * events and substituted into later commands. Every divergence is reported: a command that errors now but did
 * not then (or the reverse), a result that differs (as a JSON diff), an event that never comes.
 */
import { Browser, externalize, jsonDiff, type CdpEvent, type JsonDifference, type LoggedBrowser, type SessionLog, type SessionLogWriter } from '../../client/index.js';
import type { CommandRecord, EventRecord, ResponseRecord } from '../../client/index.js';
import { IdMap, isIdKey } from './id-map.js';

export interface Divergence {
  readonly kind: 'error-now' | 'error-then' | 'result' | 'event-missing';
  readonly browser: number;
  /** The line of the logged command or event in devtools.jsonl. */
  readonly line: number;
  readonly method: string;
  readonly message: string;
  readonly differences?: readonly JsonDifference[];
}

export interface ClientReplayOptions {
  executable?: string;
  /** Flags for Chromium (LocalRecall's routing and trust). */
  extraFlags?: readonly string[];
  /** How long to wait at most for the events the log saw before a command. @default 10000 */
  eventTimeoutMs?: number;
  /** Stop waiting for them sooner when the browser has sent nothing for this long. @default 1500 */
  quietMs?: number;
  /** Logs the replayed session too (its own devtools.jsonl). */
  record?: SessionLogWriter;
}

export interface ClientReplayResult {
  readonly commands: number;
  readonly events: number;
  readonly divergences: readonly Divergence[];
}

/** Fields of events that differ in every run and say nothing about what happened. */
const VOLATILE_EVENT_KEYS = new Set(['timestamp', 'wallTime', 'time', 'headers', 'timing', 'initiator', 'requestTime', 'remotePort', 'remoteIPAddress', 'connectionId']);

export async function replayClientSide(log: SessionLog, options: ClientReplayOptions = {}): Promise<ClientReplayResult> {
  const divergences: Divergence[] = [];
  let commands = 0;
  let events = 0;
  for (const logged of log.browsers) {
    const counts = await replayBrowser(log, logged, options, divergences);
    commands += counts.commands;
    events += counts.events;
  }
  return { commands, events, divergences };
}

async function replayBrowser(log: SessionLog, logged: LoggedBrowser, options: ClientReplayOptions, divergences: Divergence[]): Promise<{ commands: number; events: number }> {
  const wait = { timeoutMs: options.eventTimeoutMs ?? 10_000, quietMs: options.quietMs ?? 1_500 };
  const ids = new IdMap();
  const responses = new Map<number, ResponseRecord>();
  for (const record of logged.records) if (record.type === 'response') responses.set(record.id, record);
  const browser = await Browser.launch({ ...(options.executable ? { executable: options.executable } : {}), extraFlags: options.extraFlags ?? [], ...(options.record ? { log: options.record } : {}) });
  const inbox = new EventInbox(browser);
  let commands = 0;
  let events = 0;
  const waiting: (EventRecord & { line: number })[] = [];
  try {
    for (const record of logged.records) {
      if (record.type === 'event') {
        waiting.push(record);
        continue;
      }
      if (record.type !== 'command') continue;
      // Browser.close would end the new browser under the replay: closing it is the replay's own last step.
      if (record.method === 'Browser.close') break;
      events += await inbox.await(waiting.splice(0), ids, wait, (event) =>
        divergences.push({ kind: 'event-missing', browser: logged.browser, line: event.line, method: event.method, message: `event ${event.method} (line ${event.line}) never came` }),
      );
      if (browser.cdp.closed) {
        // Every later command would fail the same way: one line says it.
        divergences.push({ kind: 'error-now', browser: logged.browser, line: record.line, method: record.method, message: `Chromium went away before ${record.method} (line ${record.line}); the rest of the session was not replayed` });
        break;
      }
      commands += 1;
      const divergence = await reissue(browser, log, record, responses.get(record.id), ids);
      if (divergence) divergences.push({ browser: logged.browser, line: record.line, method: record.method, ...divergence });
    }
    events += await inbox.await(waiting.splice(0), ids, wait, (event) =>
      divergences.push({ kind: 'event-missing', browser: logged.browser, line: event.line, method: event.method, message: `event ${event.method} (line ${event.line}) never came` }),
    );
  } finally {
    inbox.stop();
    await browser.close();
  }
  return { commands, events };
}

/** Sends one logged command to the new browser and compares its answer with the logged one. */
async function reissue(browser: Browser, log: SessionLog, command: CommandRecord & { line: number }, then: ResponseRecord | undefined, ids: IdMap): Promise<Omit<Divergence, 'browser' | 'line' | 'method'> | undefined> {
  const params = log.resolve(ids.substitute(command.params));
  const sessionId = command.sessionId === undefined ? undefined : ids.id(command.sessionId);
  let now: { result: Record<string, unknown> } | { error: string };
  try {
    now = { result: await browser.cdp.send<Record<string, unknown>>(command.method, params, { sessionId, timeoutMs: then ? 30_000 : 2_000 }) };
  } catch (error) {
    now = { error: (error as Error).message };
  }
  if (!then) return undefined; // The logged run never saw its answer either.
  if ('error' in now && !then.error) return { kind: 'error-now', message: `${command.method} (line ${command.line}) fails now but did not then: ${now.error}` };
  if (!('error' in now) && then.error) return { kind: 'error-then', message: `${command.method} (line ${command.line}) succeeds now but failed then: ${then.error.message}` };
  if ('error' in now || !then.result) return undefined;
  const current = externalize(now.result);
  ids.learn(then.result, current);
  const differences = jsonDiff(ids.substitute(then.result), current, { path: 'result' });
  if (differences.length === 0) return undefined;
  return { kind: 'result', message: `${command.method} (line ${command.line}) answers differently`, differences };
}

/** The new browser's events, kept until a logged event claims each one. */
class EventInbox {
  readonly #events: CdpEvent[] = [];
  readonly #stop: () => void;
  #wake: (() => void) | undefined;
  #lastArrival = performance.now();

  constructor(browser: Browser) {
    this.#stop = browser.cdp.onEvent((event) => {
      this.#events.push(event);
      this.#lastArrival = performance.now();
      this.#wake?.();
    });
  }

  stop(): void {
    this.#stop();
  }

  /**
   * Waits for a new event matching each logged one, until one deadline for all or until the browser has been
   * quiet for `quietMs` (an event that depends on timing, like about:blank's frameStoppedLoading, may never
   * come); returns how many came.
   */
  async await(logged: readonly (EventRecord & { line: number })[], ids: IdMap, wait: { timeoutMs: number; quietMs: number }, missing: (event: EventRecord & { line: number }) => void): Promise<number> {
    const started = performance.now();
    const deadline = started + wait.timeoutMs;
    const until = () => Math.min(deadline, Math.max(this.#lastArrival, started) + wait.quietMs);
    let came = 0;
    for (const event of logged) {
      let match = this.#claim(event, ids);
      while (!match && performance.now() < until()) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, until() - performance.now()));
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
        match = this.#claim(event, ids);
      }
      if (!match) {
        missing(event);
        continue;
      }
      ids.learn(event.params, match.params);
      came += 1;
    }
    return came;
  }

  /** The earliest unclaimed event of the same method and session whose params differ least from the logged ones. */
  #claim(logged: EventRecord, ids: IdMap): CdpEvent | undefined {
    const sessionId = logged.sessionId === undefined ? undefined : ids.id(logged.sessionId);
    const expected = ids.substitute(logged.params);
    let best: { index: number; score: number } | undefined;
    for (let index = 0; index < this.#events.length && index < 200; index++) {
      const event = this.#events[index]!;
      if (event.method !== logged.method || event.sessionId !== sessionId) continue;
      const score = jsonDiff(expected, externalize(event.params), { skip: (key) => VOLATILE_EVENT_KEYS.has(key) || isIdKey(key), limit: 50 }).length;
      if (!best || score < best.score) best = { index, score };
      if (score === 0) break;
    }
    if (!best) return undefined;
    return this.#events.splice(best.index, 1)[0];
  }
}
