/**
 * The folder the results server serves: one sub-folder per job (`<dir>/<jobId>/`), created only by renaming a
 * fully extracted and checked upload into place, so a job is complete or absent. Uploads are staged in
 * `<dir>/.incoming/` (emptied at start: a crash mid-upload leaves nothing visible); the sha256 of what was
 * stored is kept in `<jobId>/.upload.json`, so a drone re-sending the same tarball (it did not see the answer)
 * gets a 200, and different content under the same id is a conflict.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkJobId, ResultsStoreError } from './results-store-error.js';
import { checkResultsTarball, extractResults, type TarballLimits } from './results-tarball.js';

export interface ResultsStoreLimits extends TarballLimits {
  /** Size of one upload as sent (compressed), in bytes. @default 1 GiB */
  readonly maxUploadBytes?: number;
}

export const DEFAULT_MAX_UPLOAD_BYTES = 1024 ** 3;
const UPLOAD_RECORD = '.upload.json';

export interface StoredJob {
  readonly jobId: string;
  readonly sha256: string;
  readonly uploadedAt: string;
  readonly bytes: number;
}

export class ResultsStore {
  private constructor(
    readonly dir: string,
    private readonly limits: ResultsStoreLimits,
  ) {}

  /** Opens (creating when missing) a store folder and drops half-made uploads a crash left. */
  static async open(dir: string, limits: ResultsStoreLimits = {}): Promise<ResultsStore> {
    await mkdir(dir, { recursive: true });
    await rm(join(dir, '.incoming'), { recursive: true, force: true });
    await mkdir(join(dir, '.incoming'), { mode: 0o700 });
    return new ResultsStore(dir, limits);
  }

  get maxUploadBytes(): number {
    return this.limits.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  }

  /**
   * Stores an upload: streams it to a staging file (refusing it past `maxUploadBytes`), checks the hash the
   * drone sent, checks every path, extracts and renames into place. Returns 'created', or 'same' when the
   * job was already stored with this content.
   */
  async accept(jobId: string, body: Readable, expectedSha256?: string): Promise<'created' | 'same'> {
    checkJobId(jobId);
    const staging = join(this.dir, '.incoming', `${jobId}.${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(staging);
      const tarball = `${staging}.tar.gz`;
      const { sha256, bytes } = await this.receive(jobId, body, tarball);
      if (expectedSha256 && expectedSha256 !== sha256) {
        throw new ResultsStoreError(
          'ERR_RESULTS_UNSAFE_UPLOAD',
          `the upload for job ${jobId} arrived damaged (sha256 ${sha256}, the drone sent ${expectedSha256}); send it again`,
        );
      }
      const existing = await this.stored(jobId);
      if (existing) return this.sameOrConflict(existing, sha256);
      await checkResultsTarball(tarball, jobId, this.limits);
      await extractResults(tarball, staging);
      const record: StoredJob = { jobId, sha256, bytes, uploadedAt: new Date().toISOString() };
      await writeFile(join(staging, UPLOAD_RECORD), `${JSON.stringify(record)}\n`);
      try {
        await rename(staging, join(this.dir, jobId));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        // Another upload of the same job won the rename.
        return this.sameOrConflict((await this.stored(jobId))!, sha256);
      }
      return 'created';
    } finally {
      await rm(staging, { recursive: true, force: true });
      await rm(`${staging}.tar.gz`, { force: true });
    }
  }

  /** The upload record of a stored job, or undefined when the store does not hold it. */
  async stored(jobId: string): Promise<StoredJob | undefined> {
    checkJobId(jobId);
    try {
      return JSON.parse(await readFile(join(this.dir, jobId, UPLOAD_RECORD), 'utf8')) as StoredJob;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Ids of the stored jobs (folders with an upload record), sorted. */
  async list(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true });
    const ids: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      if (await stat(join(this.dir, entry.name, UPLOAD_RECORD)).catch(() => undefined)) ids.push(entry.name);
    }
    return ids.sort();
  }

  private sameOrConflict(existing: StoredJob, sha256: string): 'same' {
    if (existing.sha256 === sha256) return 'same';
    throw new ResultsStoreError(
      'ERR_RESULTS_CONFLICT',
      `job ${existing.jobId} is already stored with other content (sha256 ${existing.sha256}); job ids are never reused`,
    );
  }

  private async receive(
    jobId: string,
    body: Readable,
    file: string,
  ): Promise<{ sha256: string; bytes: number }> {
    const hash = createHash('sha256');
    const max = this.maxUploadBytes;
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes > max) {
          callback(
            new ResultsStoreError(
              'ERR_RESULTS_TOO_LARGE',
              `the upload for job ${jobId} is over the store's limit of ${max} bytes`,
            ),
          );
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    await pipeline(body, counter, createWriteStream(file, { mode: 0o600 }));
    return { sha256: hash.digest('hex'), bytes };
  }
}
