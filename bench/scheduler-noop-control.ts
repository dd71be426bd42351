import { serverControl } from 'autotest';

// The scheduler benchmark's job: does nothing, so what is measured is the scheduler, the drone and autoserv's
// own start (results folder, status.log, keyvals), not a test.
export default serverControl({
  name: 'sched_Noop',
  author: 'autotest maintainers',
  time: 'FAST',
  doc: 'A job that does nothing (bench/scheduler.js).',
  async run() {},
});
