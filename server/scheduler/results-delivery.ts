/**
 * Where a job's results go after it ran: the results store (`http://…`, through the uploader, which spools and
 * retries so nothing is lost while the store is down) or a folder (copied to `<folder>/<job id>/`).
 */
import { cp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../../lib/logging.js';
import { uploadResults } from '../results-server/results-uploader.js';

export interface ResultsTarget {
  /** `http(s)://host:port` of a results server, or a folder. */
  store: string;
  token?: string;
  spoolDir: string;
  logger: Logger;
  signal?: AbortSignal;
}

export const isStoreUrl = (store: string): boolean => /^https?:\/\//.test(store);

/** Delivers the folder and returns where users find it. */
export async function deliverResults(target: ResultsTarget, jobId: string, dir: string): Promise<string> {
  if (isStoreUrl(target.store)) {
    const storeUrl = target.store.replace(/\/+$/, '');
    await uploadResults({ storeUrl, token: target.token ?? '', jobId, dir, spoolDir: target.spoolDir, logger: target.logger, ...(target.signal ? { signal: target.signal } : {}) });
    return `${storeUrl}/results/${encodeURIComponent(jobId)}/`;
  }
  const destination = join(resolve(target.store), jobId);
  await cp(dir, destination, { recursive: true, force: true });
  return destination;
}
