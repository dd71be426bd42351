/**
 * Changes made to a device, recorded as they are made, and undone in reverse order. Every undo step runs even
 * when an earlier one failed; the failures are collected and returned, never thrown halfway.
 */
import { reasonOf } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/logging.js';

interface UndoStep {
  readonly description: string;
  readonly undo: () => Promise<void>;
}

export class UndoStack {
  readonly #steps: UndoStep[] = [];
  readonly #logger: Logger;

  constructor(logger: Logger = silentLogger) {
    this.#logger = logger;
  }

  /** Records a change that has been made; `undo` puts the device back as it was before it. */
  push(description: string, undo: () => Promise<void>): void {
    this.#steps.push({ description, undo });
  }

  /** Descriptions of the changes still recorded, oldest first. */
  get descriptions(): readonly string[] {
    return this.#steps.map((s) => s.description);
  }

  /**
   * Undoes every recorded change, newest first. A step is forgotten once it ran (successfully or not), so a
   * second call does nothing. Returns one error per failed step, its message naming the step.
   */
  async unwind(): Promise<Error[]> {
    const errors: Error[] = [];
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      try {
        await step.undo();
        this.#logger.debug({ step: step.description }, `restored: ${step.description}`);
      } catch (error) {
        this.#logger.error({ err: error, step: step.description }, `could not restore: ${step.description}`);
        errors.push(new Error(`${step.description}: ${reasonOf(error)}`, { cause: error }));
      }
    }
    return errors;
  }
}
