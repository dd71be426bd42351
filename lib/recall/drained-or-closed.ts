/**
 * Back-pressure for a writer: resolves once `stream` takes more data ('drain') or is gone ('close'), removing both
 * listeners either way. Racing two `once()`s left a 'close' listener behind on every drain
 * (MaxListenersExceededWarning on large bodies). Used for responses to clients and request bodies sent upstream.
 */
import type { EventEmitter } from 'node:events';

export function drainedOrClosed(stream: EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
