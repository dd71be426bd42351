/** `clientControl({...})`: the typed helper a client control file's default export is made with. */
import type { ControlArgs } from '../lib/args.js';
import { defineControl, type ControlFile, type ControlMetadata } from '../lib/control-file.js';
import type { Job } from '../lib/job.js';

/** What a client control file's `run` receives on the device. */
export interface ClientControlContext {
  readonly job: Job;
  readonly args: ControlArgs;
}

export type ClientControlFile = ControlFile<ClientControlContext>;

export function clientControl(
  definition: ControlMetadata & { run(context: ClientControlContext): Promise<void> | void },
): ClientControlFile {
  return defineControl('client', definition);
}
