/**
 * A repository that is a folder on the device (a mount, or this machine with `LocalRunner`), copied with `cp` as
 * autotest's LocalFilesystemFetcher does. For a folder on the server, use `SshPushRepository`.
 */
import { posix } from 'node:path';
import { shellQuote } from './command-runner.js';
import { CHECKSUM_FILE } from './package-name.js';
import { FETCH_NOT_FOUND, type DeviceRepository } from './repository.js';

export class LocalRepository implements DeviceRepository {
  readonly kind = 'device';
  readonly description: string;

  /** @param dir absolute folder on the device */
  constructor(readonly dir: string) {
    this.description = dir;
  }

  indexCommand(): string {
    const file = shellQuote(posix.join(this.dir, CHECKSUM_FILE));
    return `if [ -f ${file} ]; then cat ${file}; else exit ${FETCH_NOT_FOUND}; fi`;
  }

  fetchCommand(fileName: string, destPath: string): string {
    const source = shellQuote(posix.join(this.dir, fileName));
    return `if [ -f ${source} ]; then cp ${source} ${shellQuote(destPath)}; else exit ${FETCH_NOT_FOUND}; fi`;
  }
}
