/**
 * The Chrome DevTools Protocol over `--remote-debugging-pipe`: Chromium reads commands on its fd 3 and writes
 * answers and events on its fd 4, each message one JSON text ended by a NUL byte. No npm package: a client test
 * is bundled with its packages external, and the device has only Node.
 */
import type { Readable, Writable } from 'node:stream';

export interface CdpEvent {
  readonly method: string;
  readonly params: Record<string, any>;
  readonly sessionId?: string;
}

interface Pending {
  readonly method: string;
  readonly resolve: (value: any) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class CdpPipe {
  readonly #out: Writable;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(event: CdpEvent) => void>();
  #nextId = 1;
  #buffer = '';
  #closed: Error | undefined;

  constructor(out: Writable, input: Readable) {
    this.#out = out;
    input.setEncoding('utf8');
    input.on('data', (text: string) => this.#receive(text));
    input.on('close', () => this.close(new Error('Chromium closed the DevTools pipe')));
    // A write to a pipe whose reader died: reported through the pending commands instead.
    out.on('error', (error) => this.close(error));
  }

  /** Sends a command (to a target when `sessionId` is given) and resolves with its result. */
  send<T = any>(method: string, params: Record<string, unknown> = {}, options: { sessionId?: string; timeoutMs?: number } = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new Error(`DevTools ${method}: ${this.#closed.message}`));
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`DevTools ${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      this.#out.write(`${JSON.stringify({ id, method, params, ...(options.sessionId ? { sessionId: options.sessionId } : {}) })}\0`);
    });
  }

  /** Calls `listener` for every event; returns a function that removes it. */
  onEvent(listener: (event: CdpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Rejects every pending command; later sends reject at once. Idempotent. */
  close(reason: Error = new Error('the DevTools connection was closed')): void {
    if (this.#closed) return;
    this.#closed = reason;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`DevTools ${pending.method}: ${reason.message}`));
      this.#pending.delete(id);
    }
  }

  #receive(text: string): void {
    this.#buffer += text;
    for (let end = this.#buffer.indexOf('\0'); end >= 0; end = this.#buffer.indexOf('\0')) {
      const raw = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 1);
      if (raw) this.#dispatch(JSON.parse(raw) as { id?: number; method?: string; params?: Record<string, any>; sessionId?: string; result?: unknown; error?: { message: string; code: number } });
    }
  }

  #dispatch(message: { id?: number; method?: string; params?: Record<string, any>; sessionId?: string; result?: unknown; error?: { message: string; code: number } }): void {
    if (message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error) pending.reject(new Error(`DevTools ${pending.method}: ${message.error.message} (${message.error.code})`));
      else pending.resolve(message.result);
      return;
    }
    if (message.method) {
      const event: CdpEvent = { method: message.method, params: message.params ?? {}, ...(message.sessionId ? { sessionId: message.sessionId } : {}) };
      for (const listener of this.#listeners) listener(event);
    }
  }
}
