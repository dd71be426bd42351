/**
 * Abort signals for many short operations that share one timeout. Operations started within the same slice of
 * time share one signal, aborted `timeoutMs` after the slice ends, so each may run between `timeoutMs` and
 * `timeoutMs + sliceMs`. One controller and one timer per slice instead of per operation: a DNS server answering
 * tens of thousands of queries a second from an archive then spends its time answering, not arming timers.
 */
export class DeadlineSignals {
  readonly #timeoutMs: number;
  readonly #sliceMs: number;
  readonly #reason: () => unknown;
  readonly #live = new Map<AbortController, NodeJS.Timeout>();
  #current: { controller: AbortController; openedAt: number } | undefined;

  /** `reason` makes the error the signals abort with on timeout. */
  constructor(timeoutMs: number, reason: () => unknown) {
    this.#timeoutMs = timeoutMs;
    this.#sliceMs = Math.max(1, Math.min(100, timeoutMs / 10));
    this.#reason = reason;
  }

  /** The signal for an operation starting now. */
  next(): AbortSignal {
    const now = performance.now();
    if (!this.#current || now - this.#current.openedAt >= this.#sliceMs) {
      const controller = new AbortController();
      const timer = setTimeout(() => {
        this.#live.delete(controller);
        controller.abort(this.#reason());
      }, this.#timeoutMs + this.#sliceMs);
      this.#live.set(controller, timer);
      this.#current = { controller, openedAt: now };
    }
    return this.#current.controller.signal;
  }

  /** Aborts every signal still pending with `reason` (on close) and stops their timers. */
  abortAll(reason: unknown): void {
    for (const [controller, timer] of this.#live) {
      clearTimeout(timer);
      controller.abort(reason);
    }
    this.#live.clear();
    this.#current = undefined;
  }
}
