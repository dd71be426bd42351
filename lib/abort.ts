/** Small helpers for stopping work that does not stop by itself. */

/**
 * Resolves or rejects with `promise`, or rejects with `signal.reason` as soon as the signal aborts. The
 * promise keeps running (JavaScript cannot kill it); the caller just stops waiting for it.
 */
export function raceAbort<T>(promise: Promise<T> | T, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** An AbortController that also aborts when any of `parents` does; `dispose()` detaches it. */
export function linkedAbortController(...parents: (AbortSignal | undefined)[]): AbortController & { dispose(): void } {
  const controller = new AbortController();
  const detach: (() => void)[] = [];
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      controller.abort(parent.reason);
      break;
    }
    const onAbort = () => controller.abort(parent.reason);
    parent.addEventListener('abort', onAbort, { once: true });
    detach.push(() => parent.removeEventListener('abort', onAbort));
  }
  return Object.assign(controller, { dispose: () => detach.forEach((fn) => fn()) });
}
