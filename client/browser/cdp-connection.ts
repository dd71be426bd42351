/**
 * A Chrome DevTools Protocol connection: numbered commands and their answers, events to listeners, over any
 * transport (Chromium's pipe, or a session log being replayed). Every message can be tapped, which is how a
 * session log sees the whole conversation.
 */
import { AutotestError } from '../../lib/errors.js';

export interface CdpCommand {
  readonly id: number;
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly sessionId?: string;
}

/** A message from the browser: an answer (`id` with `result` or `error`) or an event (`method`). */
export interface CdpIncoming {
  readonly id?: number;
  readonly result?: Record<string, any>;
  readonly error?: { readonly code: number; readonly message: string; readonly data?: string };
  readonly method?: string;
  readonly params?: Record<string, any>;
  readonly sessionId?: string;
}

export interface CdpEvent {
  readonly method: string;
  readonly params: Record<string, any>;
  readonly sessionId?: string;
}

/** Carries messages to and from a browser. */
export interface CdpTransport {
  send(message: CdpCommand): void;
  onMessage(listener: (message: CdpIncoming) => void): void;
  onClose(listener: (reason: Error) => void): void;
  close(): void;
}

/** Sees every message, in the order they were sent or received. */
export interface CdpTap {
  command(message: CdpCommand): void;
  incoming(message: CdpIncoming): void;
}

/** A command the browser answered with an error, or that got no answer. */
export class CdpError extends AutotestError {
  /** The protocol's error code (-32000 …); undefined when there was no answer at all. */
  readonly protocolCode: number | undefined;
  constructor(method: string, message: string, protocolCode?: number) {
    super('ERR_DEVTOOLS_COMMAND', `DevTools ${method}: ${message}${protocolCode === undefined ? '' : ` (${protocolCode})`}`);
    this.protocolCode = protocolCode;
  }
}

interface Pending {
  readonly method: string;
  readonly resolve: (value: any) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface SendOptions {
  sessionId?: string | undefined;
  /** @default 30000 */
  timeoutMs?: number;
}

export class CdpConnection {
  readonly #transport: CdpTransport;
  readonly #tap: CdpTap | undefined;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(event: CdpEvent) => void>();
  #nextId = 1;
  #closed: Error | undefined;

  constructor(transport: CdpTransport, tap?: CdpTap) {
    this.#transport = transport;
    this.#tap = tap;
    transport.onMessage((message) => this.#dispatch(message));
    transport.onClose((reason) => this.close(reason));
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Sends a command (to a target when `sessionId` is given) and resolves with its result. */
  send<T = any>(method: string, params: Record<string, unknown> = {}, options: SendOptions = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new CdpError(method, this.#closed.message));
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CdpError(method, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      const command: CdpCommand = { id, method, params, ...(options.sessionId ? { sessionId: options.sessionId } : {}) };
      this.#tap?.command(command);
      this.#transport.send(command);
    });
  }

  /** Calls `listener` for every event; returns a function that removes it. */
  onEvent(listener: (event: CdpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the first event named `method` (of `sessionId`, when given) that `predicate` accepts. */
  waitForEvent(method: string, options: { sessionId?: string; timeoutMs?: number; predicate?: (event: CdpEvent) => boolean } = {}): Promise<CdpEvent> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise<CdpEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new CdpError(method, `the event did not come within ${timeoutMs} ms`));
      }, timeoutMs);
      const stop = this.onEvent((event) => {
        if (event.method !== method || (options.sessionId !== undefined && event.sessionId !== options.sessionId)) return;
        if (options.predicate && !options.predicate(event)) return;
        clearTimeout(timer);
        stop();
        resolve(event);
      });
    });
  }

  /** Rejects every pending command; later sends reject at once. Idempotent. */
  close(reason: Error = new Error('the DevTools connection was closed')): void {
    if (this.#closed) return;
    this.#closed = reason;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new CdpError(pending.method, reason.message));
      this.#pending.delete(id);
    }
    this.#transport.close();
  }

  #dispatch(message: CdpIncoming): void {
    this.#tap?.incoming(message);
    if (message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error) pending.reject(new CdpError(pending.method, message.error.message, message.error.code));
      else pending.resolve(message.result ?? {});
      return;
    }
    if (message.method) {
      const event: CdpEvent = { method: message.method, params: message.params ?? {}, ...(message.sessionId ? { sessionId: message.sessionId } : {}) };
      for (const listener of [...this.#listeners]) listener(event);
    }
  }
}
