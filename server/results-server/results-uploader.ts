/**
 * The drone's half of the results store. After each job the drone calls `uploadResults`: the results folder is
 * packed into the spool folder first (so it survives the drone), then sent to the store. When the store is
 * unreachable or failing, the tarball stays in the spool and is retried in the background with exponential
 * backoff; `retrySpooled` picks the spool up again when a drone starts. Nothing is deleted before the store
 * said it holds the job. A tarball the store refuses for good (unsafe path, too large, conflicting content)
 * is moved to `<spoolDir>/rejected/` and logged, never dropped.
 *
 * Protocol: `PUT <storeUrl>/api/jobs/<jobId>/results` with `Authorization: Bearer <token>`, a .tar.gz body and
 * `x-results-sha256`; the store answers 201 (stored), 200 (already stored, same content) or an error.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { reasonOf } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/logging.js';
import { checkJobId, ResultsStoreError } from './results-store-error.js';
import { packResults } from './results-tarball.js';

export interface StoreConnection {
  /** The results server, e.g. `http://198.18.1.1:8080`. */
  readonly storeUrl: string;
  /** The upload token (the content of the server's token file). */
  readonly token: string;
  /** Where tarballs wait until the store has them; keep it on the drone's disk, across restarts. */
  readonly spoolDir: string;
  readonly logger?: Logger;
  /** Delays between background retries: doubled from `initialMs` up to `maxMs`. @default { initialMs: 1000, maxMs: 60000 } */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Aborting stops the background retries (the spool stays for the next start). */
  readonly signal?: AbortSignal;
}

export interface UploadResultsOptions extends StoreConnection {
  readonly jobId: string;
  /** The job's results folder. */
  readonly dir: string;
}

const SUFFIX = '.tar.gz';

/**
 * Spools the job's results and tries to upload them once. Resolves when they are in the store, or safely in
 * the spool with a background retry scheduled (so a down store never holds the drone's devices). Throws only
 * when the results cannot even be spooled (bad job id, unreadable folder, full disk).
 */
export async function uploadResults(options: UploadResultsOptions): Promise<void> {
  const jobId = checkJobId(options.jobId);
  await mkdir(options.spoolDir, { recursive: true });
  const file = join(options.spoolDir, `${jobId}${SUFFIX}`);
  await packResults(options.dir, file);
  const outcome = await sendSpooled(options, jobId);
  if (outcome === 'retry') retryLater(options);
}

/** Job ids waiting in the spool. */
export async function spooledJobs(spoolDir: string): Promise<string[]> {
  const names = await readdir(spoolDir).catch(() => [] as string[]);
  return names
    .filter((name) => name.endsWith(SUFFIX))
    .map((name) => name.slice(0, -SUFFIX.length))
    .sort();
}

export interface RetryOutcome {
  readonly uploaded: readonly string[];
  readonly pending: readonly string[];
  readonly rejected: readonly string[];
}

/**
 * Sends every spooled job once (call it when a drone starts). What still cannot be sent is retried in the
 * background with backoff until it is, or until `signal` aborts.
 */
export async function retrySpooled(connection: StoreConnection): Promise<RetryOutcome> {
  const uploaded: string[] = [];
  const pending: string[] = [];
  const rejected: string[] = [];
  for (const jobId of await spooledJobs(connection.spoolDir)) {
    const outcome = await sendSpooled(connection, jobId);
    (outcome === 'done' ? uploaded : outcome === 'rejected' ? rejected : pending).push(jobId);
  }
  if (pending.length > 0) retryLater(connection);
  return { uploaded, pending, rejected };
}

type SendOutcome = 'done' | 'retry' | 'rejected';

// One upload per spooled file at a time in this process: a background retry and a new call never race.
const inFlight = new Map<string, Promise<SendOutcome>>();

function sendSpooled(connection: StoreConnection, jobId: string): Promise<SendOutcome> {
  const file = join(connection.spoolDir, `${jobId}${SUFFIX}`);
  let running = inFlight.get(file);
  if (!running) {
    running = sendFile(connection, jobId, file).finally(() => inFlight.delete(file));
    inFlight.set(file, running);
  }
  return running;
}

async function sendFile(connection: StoreConnection, jobId: string, file: string): Promise<SendOutcome> {
  const logger = (connection.logger ?? silentLogger).child({ component: 'results-uploader', jobId });
  const size = await stat(file).then(
    (s) => s.size,
    () => undefined,
  );
  if (size === undefined) return 'done'; // another process (a second drone start) already sent it
  const url = `${connection.storeUrl.replace(/\/+$/, '')}/api/jobs/${encodeURIComponent(jobId)}/results`;
  let status: number;
  let detail: string;
  try {
    const response = await request(url, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${connection.token}`,
        'content-type': 'application/gzip',
        'content-length': String(size),
        'x-results-sha256': await sha256(file),
      },
      body: createReadStream(file),
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    status = response.statusCode;
    detail = (await response.body.text()).slice(0, 500);
  } catch (error) {
    logger.warn(
      { err: error, storeUrl: connection.storeUrl },
      `results store unreachable; job ${jobId} stays spooled in ${connection.spoolDir}`,
    );
    return 'retry';
  }
  if (status === 200 || status === 201) {
    await rm(file, { force: true });
    logger.info({ status }, `results of job ${jobId} uploaded`);
    return 'done';
  }
  if (status === 400 || status === 409 || status === 413) {
    const rejectedDir = join(connection.spoolDir, 'rejected');
    await mkdir(rejectedDir, { recursive: true });
    await rename(file, join(rejectedDir, `${jobId}${SUFFIX}`));
    const error = new ResultsStoreError(
      'ERR_RESULTS_UPLOAD',
      `the results store refused job ${jobId} (HTTP ${status}: ${detail}); its tarball is kept in ${rejectedDir}`,
    );
    logger.error({ err: error }, error.message);
    return 'rejected';
  }
  // 401/403 (a token being rotated) and 5xx may pass: keep the tarball and try again later.
  logger.warn({ status, detail }, `results store answered HTTP ${status}; job ${jobId} stays spooled`);
  return 'retry';
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// One background loop per spool folder, whatever number of jobs wait in it.
const loops = new Set<string>();

function retryLater(connection: StoreConnection): void {
  if (loops.has(connection.spoolDir)) return;
  const initialMs = connection.backoff?.initialMs ?? 1000;
  const maxMs = connection.backoff?.maxMs ?? 60_000;
  const logger = (connection.logger ?? silentLogger).child({ component: 'results-uploader' });
  let delayMs = initialMs;
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (timer) clearTimeout(timer);
    loops.delete(connection.spoolDir);
    connection.signal?.removeEventListener('abort', stop);
  };
  const attempt = async (): Promise<void> => {
    timer = undefined;
    if (connection.signal?.aborted) return stop();
    let left = 0;
    try {
      for (const jobId of await spooledJobs(connection.spoolDir)) {
        if ((await sendSpooled(connection, jobId)) === 'retry') left += 1;
      }
    } catch (error) {
      logger.error({ err: error }, `retrying spooled results failed: ${reasonOf(error)}`);
      left = 1;
    }
    if (left === 0 || connection.signal?.aborted) return stop();
    delayMs = Math.min(delayMs * 2, maxMs);
    schedule();
  };
  const schedule = (): void => {
    // Jitter spreads many drones' retries after a store outage.
    timer = setTimeout(() => void attempt(), delayMs * (0.75 + Math.random() * 0.5));
    timer.unref();
  };
  connection.signal?.addEventListener('abort', stop, { once: true });
  loops.add(connection.spoolDir);
  schedule();
}
