/**
 * Plays one recorded WebSocket connection back to a client, step by step: the server frames recorded before the
 * client's first frame go out at once (with their recorded gaps); then each recorded client frame is waited for,
 * and when it arrives the server frames that followed it in the recording go out with their recorded delays
 * (capped). A client frame that is not the one expected is an extra frame; recorded client frames never sent are
 * missing. Both are reported when the connection closes.
 */
import WebSocket from 'ws';
import type { HarWebSocketMessage } from '../archive/archive-types.js';
import type { FrameMatcher } from './frame-matcher.js';
import { bytesOf, payloadOf } from './websocket-frames.js';

/** What differed from the recording on one connection. */
export interface WebSocketMismatch {
  /** The handshake URL (`wss://host/path`). */
  url: string;
  /** Client frames that were not the recorded next one (or came after the recording's last). */
  extraFrames: number;
  /** Recorded client frames the client never sent. */
  missingFrames: number;
  /** The first extra frame, cut to 200 characters (binary as `<N bytes>`). */
  firstExtra?: string;
  /** The first recorded client frame never sent, cut the same way. */
  firstMissing?: string;
}

function preview(message: { data: string; opcode: number } | { bytes: Buffer; binary: boolean }): string {
  if ('bytes' in message)
    return message.binary ? `<${message.bytes.length} bytes>` : message.bytes.toString('utf8').slice(0, 200);
  return message.opcode === 2
    ? `<${Buffer.from(message.data, 'base64').length} bytes>`
    : message.data.slice(0, 200);
}

export class WebSocketConversation {
  readonly #url: string;
  readonly #messages: readonly HarWebSocketMessage[];
  readonly #socket: WebSocket;
  readonly #frames: FrameMatcher;
  readonly #maxDelayMs: number;
  #next = 0;
  #extra = 0;
  #firstExtra: string | undefined;
  /** Server frames go out one after the other, each after its delay, in recorded order. */
  #sending: Promise<void> = Promise.resolve();
  readonly #done: Promise<WebSocketMismatch>;

  constructor(
    url: string,
    messages: readonly HarWebSocketMessage[],
    socket: WebSocket,
    frames: FrameMatcher,
    maxDelayMs: number,
  ) {
    this.#url = url;
    this.#messages = messages;
    this.#socket = socket;
    this.#frames = frames;
    this.#maxDelayMs = maxDelayMs;
    socket.on('message', (data, isBinary) => this.#received(bytesOf(data), isBinary));
    socket.on('error', () => socket.terminate());
    this.#done = new Promise((resolve) => socket.once('close', () => resolve(this.#report())));
    this.#sendFollowing();
  }

  /** Settles when the client has closed, with what differed from the recording. */
  get finished(): Promise<WebSocketMismatch> {
    return this.#done;
  }

  #received(bytes: Buffer, binary: boolean): void {
    const expected = this.#messages[this.#next];
    if (expected?.type === 'send' && this.#frames.matches(expected, bytes, binary)) {
      this.#next++;
      this.#sendFollowing();
      return;
    }
    this.#extra++;
    this.#firstExtra ??= preview({ bytes, binary });
  }

  /** Schedules the recorded server frames from the cursor up to the next client frame. */
  #sendFollowing(): void {
    while (this.#messages[this.#next]?.type === 'receive') {
      const message = this.#messages[this.#next]!;
      const previous = this.#messages[this.#next - 1];
      const gapMs = previous ? (message.time - previous.time) * 1000 : 0;
      const delayMs = Math.min(this.#maxDelayMs, Math.max(0, Number.isFinite(gapMs) ? gapMs : 0));
      this.#next++;
      this.#sending = this.#sending.then(async () => {
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (this.#socket.readyState !== WebSocket.OPEN) return;
        const { data, binary } = payloadOf(message);
        this.#socket.send(data, { binary });
      });
    }
  }

  #report(): WebSocketMismatch {
    const missing = this.#messages.slice(this.#next).filter((m) => m.type === 'send');
    const report: WebSocketMismatch = {
      url: this.#url,
      extraFrames: this.#extra,
      missingFrames: missing.length,
    };
    if (this.#firstExtra !== undefined) report.firstExtra = this.#firstExtra;
    if (missing[0]) report.firstMissing = preview(missing[0]);
    return report;
  }
}

/** One line for a log or summary, or undefined when the connection went as recorded. */
export function mismatchLine(m: WebSocketMismatch): string | undefined {
  if (m.extraFrames === 0 && m.missingFrames === 0) return undefined;
  const parts: string[] = [];
  if (m.extraFrames > 0)
    parts.push(
      `${m.extraFrames} client frame(s) not in the recording (first: ${JSON.stringify(m.firstExtra)})`,
    );
  if (m.missingFrames > 0)
    parts.push(
      `${m.missingFrames} recorded client frame(s) never sent (first: ${JSON.stringify(m.firstMissing)})`,
    );
  return `WEBSOCKET MISMATCH ${m.url}: ${parts.join('; ')}`;
}
