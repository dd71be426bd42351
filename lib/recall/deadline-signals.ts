/**
 * Deadlines for many short operations that share one timeout. Operations started within the same slice of time
 * share one timer, fired `timeoutMs` after the slice ends, so each may run between `timeoutMs` and
 * `timeoutMs + sliceMs`. One timer per slice instead of per operation: a DNS server answering tens of thousands of
 * queries a second from an archive then spends its time answering, not arming timers.
 *
 * Each operation still gets its own signal, made only when something asks for it: a signal shared by a whole slice
 * collected one abort listener per pending operation (MaxListenersExceededWarning under a DNS flood while recording).
 */
export interface Deadline {
  /** This operation's signal, aborted when its slice times out or everything is aborted. Made on first use. */
  readonly signal: AbortSignal;
  /** The operation finished: its signal is no longer aborted on timeout, and the slice forgets it. */
  done(): void;
}

interface Slice {
  readonly openedAt: number;
  readonly controllers: Set<AbortController>;
  timer: NodeJS.Timeout | undefined;
}

export class DeadlineSignals {
  readonly #timeoutMs: number;
  readonly #sliceMs: number;
  readonly #reason: () => unknown;
  readonly #live = new Set<Slice>();
  #current: Slice | undefined;

  /** `reason` makes the error the signals abort with on timeout. */
  constructor(timeoutMs: number, reason: () => unknown) {
    this.#timeoutMs = timeoutMs;
    this.#sliceMs = Math.max(1, Math.min(100, timeoutMs / 10));
    this.#reason = reason;
  }

  /** The deadline of an operation starting now. */
  next(): Deadline {
    const now = performance.now();
    if (!this.#current || now - this.#current.openedAt >= this.#sliceMs) {
      this.#current = { openedAt: now, controllers: new Set(), timer: undefined };
    }
    return new SliceDeadline(this.#current, this.#arm);
  }

  /** Starts a slice's timer (once), when its first signal is made. */
  readonly #arm = (slice: Slice): void => {
    if (slice.timer) return;
    this.#live.add(slice);
    slice.timer = setTimeout(() => {
      this.#live.delete(slice);
      const reason = this.#reason();
      for (const c of slice.controllers) c.abort(reason);
      slice.controllers.clear();
    }, this.#timeoutMs + this.#sliceMs);
  };

  /** Aborts every signal still pending with `reason` (on close) and stops their timers. */
  abortAll(reason: unknown): void {
    for (const slice of this.#live) {
      clearTimeout(slice.timer);
      slice.timer = undefined;
      for (const c of slice.controllers) c.abort(reason);
      slice.controllers.clear();
    }
    this.#live.clear();
    this.#current = undefined;
  }
}

/** One operation's deadline: a plain object (no closures), as a DNS server makes one per query. */
class SliceDeadline implements Deadline {
  readonly #slice: Slice;
  readonly #arm: (slice: Slice) => void;
  #controller: AbortController | undefined;
  #finished = false;

  constructor(slice: Slice, arm: (slice: Slice) => void) {
    this.#slice = slice;
    this.#arm = arm;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (!this.#finished) {
        this.#slice.controllers.add(this.#controller);
        this.#arm(this.#slice);
      }
    }
    return this.#controller.signal;
  }

  done(): void {
    this.#finished = true;
    // The slice's timer stays: cheaper than re-arming one per operation.
    if (this.#controller) this.#slice.controllers.delete(this.#controller);
  }
}
