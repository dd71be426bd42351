/**
 * A job's results travel from a drone to the store as one gzip-compressed tarball made by the system `tar`.
 * The store never trusts it: `checkResultsTarball` lists it first and refuses paths that would land outside the
 * job's folder (absolute names, `..`, links pointing out, device nodes, fifos) and archives over the size or
 * entry-count bounds, before anything is extracted.
 */
import { rename, rm } from 'node:fs/promises';
import { execa } from 'execa';
import { isAutotestError } from '../../lib/errors.js';
import { assertEntriesSafe, parseTarListing } from '../../lib/packages/tarball-safety.js';
import { ResultsStoreError } from './results-store-error.js';

export interface TarballLimits {
  /** Sum of the files' sizes once extracted, in bytes. @default 4 GiB */
  readonly maxExtractedBytes?: number;
  /** Number of entries (files, folders, links). @default 200000 */
  readonly maxEntries?: number;
}

export const DEFAULT_MAX_EXTRACTED_BYTES = 4 * 1024 ** 3;
export const DEFAULT_MAX_ENTRIES = 200_000;

/** Packs the content of `dir` into `file` (written beside it and renamed, so `file` is whole or absent). */
export async function packResults(dir: string, file: string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  const result = await execa('tar', ['-C', dir, '--sort=name', '-czf', temp, '.'], {
    reject: false,
    env: { LC_ALL: 'C' },
  });
  if (result.exitCode !== 0) {
    await rm(temp, { force: true });
    throw new ResultsStoreError(
      'ERR_RESULTS_OPTIONS',
      `cannot pack the results folder ${dir}: ${result.stderr.trim() || `tar exited with ${result.exitCode}`}`,
    );
  }
  await rename(temp, file);
}

const SIZE = /^\S{10}\s+\S+\s+(\d+)\s/;

/** Lists `file` and throws `ERR_RESULTS_UNSAFE_UPLOAD` or `ERR_RESULTS_TOO_LARGE` when it must not be extracted. */
export async function checkResultsTarball(
  file: string,
  jobId: string,
  limits: TarballLimits = {},
): Promise<void> {
  const listed = await execa('tar', ['-tvzf', file], { reject: false, env: { LC_ALL: 'C' } });
  if (listed.exitCode !== 0) {
    throw new ResultsStoreError(
      'ERR_RESULTS_UNSAFE_UPLOAD',
      `the upload for job ${jobId} is not a readable .tar.gz: ${listed.stderr.trim()}; upload what packResults makes`,
    );
  }
  try {
    const entries = parseTarListing(listed.stdout, `the upload for job ${jobId}`);
    for (const entry of entries) {
      if (!['-', 'd', 'l', 'h'].includes(entry.type))
        throw new ResultsStoreError(
          'ERR_RESULTS_UNSAFE_UPLOAD',
          `the upload for job ${jobId} holds "${entry.name}", which is not a file, folder or link`,
        );
    }
    assertEntriesSafe(entries, `the upload for job ${jobId}`);
    const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (entries.length > maxEntries)
      throw new ResultsStoreError(
        'ERR_RESULTS_TOO_LARGE',
        `the upload for job ${jobId} has ${entries.length} entries, more than the store's limit of ${maxEntries}`,
      );
  } catch (error) {
    if (isAutotestError(error) && error.code === 'ERR_PACKAGE_UNSAFE_PATH')
      throw new ResultsStoreError(
        'ERR_RESULTS_UNSAFE_UPLOAD',
        error.message.replace(/^Refusing to install /, 'Refusing '),
        { cause: error },
      );
    throw error;
  }
  const bytes = listed.stdout.split('\n').reduce((sum, line) => sum + Number(SIZE.exec(line)?.[1] ?? 0), 0);
  const maxBytes = limits.maxExtractedBytes ?? DEFAULT_MAX_EXTRACTED_BYTES;
  if (bytes > maxBytes)
    throw new ResultsStoreError(
      'ERR_RESULTS_TOO_LARGE',
      `the upload for job ${jobId} holds ${bytes} bytes, more than the store's limit of ${maxBytes}`,
    );
}

/** Extracts a checked tarball into an existing empty folder, without the archive's owners or special modes. */
export async function extractResults(file: string, dir: string): Promise<void> {
  const result = await execa(
    'tar',
    ['-xzf', file, '-C', dir, '--no-same-owner', '--no-same-permissions', '--no-overwrite-dir'],
    { reject: false, env: { LC_ALL: 'C' } },
  );
  if (result.exitCode !== 0)
    throw new ResultsStoreError(
      'ERR_RESULTS_UNSAFE_UPLOAD',
      `extracting an upload failed: ${result.stderr.trim()}`,
    );
}
