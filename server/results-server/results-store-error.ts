/**
 * The error class of the results store (server and uploader). Match on `code`:
 * - `ERR_RESULTS_JOB_ID`: a job id that cannot be a folder name.
 * - `ERR_RESULTS_UNSAFE_UPLOAD`: an upload with a path that leaves the job's folder, a device node, or an
 *   unreadable archive.
 * - `ERR_RESULTS_TOO_LARGE`: an upload over the store's size or entry-count bounds.
 * - `ERR_RESULTS_CONFLICT`: a job already stored with different content.
 * - `ERR_RESULTS_OPTIONS`: a bad option (folder, address, token file).
 * - `ERR_RESULTS_UPLOAD`: the store answered an upload with an error it will keep giving (bad token, refused).
 */
import { AutotestError, type AutotestErrorOptions } from '../../lib/errors.js';

export type ResultsStoreErrorCode =
  | 'ERR_RESULTS_JOB_ID'
  | 'ERR_RESULTS_UNSAFE_UPLOAD'
  | 'ERR_RESULTS_TOO_LARGE'
  | 'ERR_RESULTS_CONFLICT'
  | 'ERR_RESULTS_OPTIONS'
  | 'ERR_RESULTS_UPLOAD';

export class ResultsStoreError extends AutotestError {
  declare readonly code: ResultsStoreErrorCode;
  constructor(code: ResultsStoreErrorCode, message: string, options?: AutotestErrorOptions) {
    super(code, message, options);
  }
}

const JOB_ID = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/;

/** Returns `value` when it can be a job's folder name in the store, else throws `ERR_RESULTS_JOB_ID`. */
export function checkJobId(value: unknown): string {
  if (typeof value === 'string' && JOB_ID.test(value) && !value.includes('..')) return value;
  throw new ResultsStoreError(
    'ERR_RESULTS_JOB_ID',
    `job id ${JSON.stringify(value)} is not allowed: use 1 to 128 letters, digits, '_', '.', '+' and '-', not starting with '.' or '-', no '..'`,
  );
}
