import { Test } from 'autotest/client';

/** A client test that always passes, recording one perf value per iteration. */
export class dummy_Pass extends Test {
  async runOnce(): Promise<void> {
    await this.writePerfKeyval({ iteration: this.iteration });
  }
}
