/**
 * Ctrl-C and SIGTERM: the first one aborts the job, which stops the running test, runs every pending
 * cleanup and writes a valid status.log; a second one exits at once.
 */
import { TestAbort } from '../../lib/errors.js';

export function abortOnSignals(out: NodeJS.WritableStream = process.stderr): AbortController {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      out.write(`\n${signal} again: exiting without waiting for cleanup\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    out.write(`\n${signal}: stopping the job, running cleanup (press again to exit at once)\n`);
    controller.abort(new TestAbort(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller;
}
