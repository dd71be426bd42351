/**
 * The client job: runs a client control file on the device with the same test core as the server. Results
 * go to `<results>/` with autotest's client layout: `status` (not status.log), `debug/client.{DEBUG,…}`,
 * one folder per test. The whole job is one `START ---- ----` … `END <status> ---- ----` group.
 */
import { join } from 'node:path';
import { parseControlArgs } from '../lib/args.js';
import { loadControlFile } from '../lib/control-file.js';
import { JobError, reasonOf } from '../lib/errors.js';
import { Job } from '../lib/job.js';
import { createLogger, openLevelFiles } from '../lib/logging.js';
import type { ClientControlContext } from './control.js';

export class ClientJob extends Job {}

export interface ClientRunOptions {
  /** The compiled client control file. */
  control: string;
  resultsDir: string;
  testsDirs: readonly string[];
  /** The `-a` string. */
  args?: string;
  signal?: AbortSignal;
}

/** Exit codes of the client harness, as autotest's client: 0 the job completed (tests may have failed). */
export const CLIENT_EXIT = { completed: 0, aborted: 1 } as const;

export async function runClientJob(options: ClientRunOptions): Promise<number> {
  const files = openLevelFiles(join(options.resultsDir, 'debug'), 'client');
  const logger = createLogger(files.streams, { component: 'client' });
  const job = new ClientJob({
    resultsDir: options.resultsDir,
    testsDirs: options.testsDirs,
    logger,
    logStreams: files.streams,
    signal: options.signal,
    statusFileName: 'status',
    setupStateDir: join(options.resultsDir, '..', '.setup'),
  });
  job.record('START', undefined, undefined);
  let exitCode: number = CLIENT_EXIT.completed;
  try {
    const loaded = await loadControlFile<ClientControlContext>(options.control);
    if (loaded.control.testType !== 'client') {
      throw new JobError('ERR_CONTROL_TYPE', `${options.control} is a server control file: run it with autoserv`);
    }
    await loaded.control.run({ job, args: parseControlArgs(options.args ?? '') });
    job.record('END GOOD', undefined, undefined);
  } catch (error) {
    const reason = reasonOf(error);
    logger.error({ err: error }, `client job aborted: ${reason}`);
    job.context.status.closeAll('END ABORT', reason);
    exitCode = CLIENT_EXIT.aborted;
  } finally {
    files.close();
  }
  return exitCode;
}
