/** The server job: runs server tests in-process and reaches machines through host objects. */
import { Job, type JobOptions } from '../lib/job.js';
import { parallelSimple, type MachineResult, type ParallelSimpleOptions } from './parallel-simple.js';

export interface ServerJobOptions extends JobOptions {
  machines: readonly string[];
}

export class ServerJob extends Job {
  readonly machines: readonly string[];

  constructor(options: ServerJobOptions) {
    super(options);
    this.machines = options.machines;
  }

  /** See `parallelSimple`: `fn` runs for every machine at once, each in its own results folder. */
  parallelSimple<T>(fn: (machine: string) => Promise<T> | T, machines: readonly string[] = this.machines, options?: ParallelSimpleOptions): Promise<MachineResult<T>[]> {
    return parallelSimple(this, fn, machines, options);
  }
}
