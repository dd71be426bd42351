/**
 * The results server: serves the store folder under `/results/`, accepts drones' uploads on
 * `PUT /api/jobs/:id/results` (token in `Authorization: Bearer`), and, when given a scheduler, the web view
 * (jobs, queue, devices, Bull Board). See docs/results-server.md.
 * @example
 * await using server = await startResultsServer({ dir: '/srv/results', token, host: '127.0.0.1', port: 0 });
 * console.log(server.url);
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { isAutotestError } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/logging.js';
import { ResultsStore, type ResultsStoreLimits } from './results-store.js';
import { ResultsStoreError } from './results-store-error.js';
import { folderListing } from './web-page.js';

export interface ResultsServerOptions extends ResultsStoreLimits {
  /** The store folder. */
  readonly dir: string;
  /** Drones send it as `Authorization: Bearer <token>`; at least 16 characters. */
  readonly token: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  readonly logger?: Logger;
  /** Adds routes (the web view) before the server listens. */
  readonly extend?: (app: FastifyInstance, store: ResultsStore) => Promise<void>;
}

export interface ResultsServer extends AsyncDisposable {
  /** `http://host:port` */
  readonly url: string;
  readonly store: ResultsStore;
  close(): Promise<void>;
}

const STATUS_OF_CODE: Record<string, number> = {
  ERR_RESULTS_JOB_ID: 400,
  ERR_RESULTS_UNSAFE_UPLOAD: 400,
  ERR_RESULTS_TOO_LARGE: 413,
  ERR_RESULTS_CONFLICT: 409,
};

export async function startResultsServer(options: ResultsServerOptions): Promise<ResultsServer> {
  if (options.token.trim().length < 16)
    throw new ResultsStoreError(
      'ERR_RESULTS_OPTIONS',
      'the upload token is shorter than 16 characters; write a long random one to the token file (e.g. `openssl rand -hex 32 > token`)',
    );
  const logger = (options.logger ?? silentLogger).child({ component: 'results-server' });
  const store = await ResultsStore.open(options.dir, options);
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  const tokenDigest = digest(options.token.trim());

  // Uploads are streamed to disk by the store, which bounds their size itself.
  app.addContentTypeParser(['application/gzip', 'application/octet-stream'], (_request, payload, done) =>
    done(null, payload),
  );

  app.put<{ Params: { id: string } }>('/api/jobs/:id/results', async (request, reply) => {
    const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!given || !timingSafeEqual(digest(given), tokenDigest)) {
      return reply.code(401).send({
        code: 'ERR_RESULTS_TOKEN',
        message:
          "missing or wrong upload token; give the drone the content of the results server's token file",
      });
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > store.maxUploadBytes)
      return reply.code(413).send({
        code: 'ERR_RESULTS_TOO_LARGE',
        message: `upload of ${declared} bytes is over the store's limit of ${store.maxUploadBytes}`,
      });
    const sha = request.headers['x-results-sha256'];
    try {
      const outcome = await store.accept(
        request.params.id,
        request.body as Readable,
        typeof sha === 'string' ? sha : undefined,
      );
      return reply.code(outcome === 'created' ? 201 : 200).send({ jobId: request.params.id, outcome });
    } catch (error) {
      const status = isAutotestError(error) ? STATUS_OF_CODE[error.code] : undefined;
      if (!status || !isAutotestError(error)) throw error;
      logger.warn({ jobId: request.params.id, code: error.code }, error.message);
      return reply.code(status).send({ code: error.code, message: error.message });
    }
  });

  await app.register(fastifyStatic, {
    root: store.dir,
    prefix: '/results/',
    index: ['index.html'],
    dotfiles: 'ignore',
  });
  // The raw folder, as AFE's "raw results" link: every file of a job, listed (dot files hidden).
  await app.register(fastifyStatic, {
    root: store.dir,
    prefix: '/browse/',
    index: false,
    dotfiles: 'ignore',
    decorateReply: false,
    list: { format: 'html', render: folderListing },
  });
  if (options.extend) await options.extend(app, store);
  try {
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  } catch (error) {
    await app.close();
    throw new ResultsStoreError(
      'ERR_RESULTS_OPTIONS',
      `cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 0}: ${(error as Error).message}; pick a free --listen address`,
      { cause: error },
    );
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host ?? '127.0.0.1';
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= app.close());
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    store,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
