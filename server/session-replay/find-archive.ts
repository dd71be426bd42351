/** The Recall archive of a run: `archive.har.gz` (or `.har`) in the test's folder or the server test's around it. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AutotestError } from '../../lib/errors.js';

export function findArchive(testDir: string): string {
  for (const dir of [testDir, dirname(testDir)]) {
    for (const name of ['archive.har.gz', 'archive.har']) {
      if (existsSync(join(dir, name))) return join(dir, name);
    }
  }
  throw new AutotestError('ERR_SESSION_REPLAY_NO_ARCHIVE', `no Recall archive (archive.har.gz) in ${testDir} or its parent: run the test under test_RecallServer, or pass --archive FILE`);
}
