/**
 * Mounts the web view on the results server: `/jobs` (filters, see job-filter.ts), `/jobs/:id`, `/hosts`,
 * `/queue`, Bull Board under `/bull/`, and the same data as JSON under `/api/`. Job and device data come from
 * the scheduler (`LabData`, normally a `SchedulerClient`); reports are the stored folders' `index.html`.
 * Without a scheduler, `/jobs` lists the stored jobs only.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../lib/logging.js';
import type { HostRecord, JobRecord } from '../scheduler/records.js';
import { filterJobs, jobFilterFrom } from './job-filter.js';
import type { ResultsStore } from './results-store.js';
import { hostsPage, jobPage, jobsPage, queuePage } from './web-pages.js';
import { html, page } from './web-page.js';

/** What the web view reads from the scheduler; `SchedulerClient` provides it. */
export interface LabData {
  listJobs(): Promise<JobRecord[]>;
  getJob(id: string): Promise<JobRecord | undefined>;
  listHosts(): Promise<HostRecord[]>;
  /** BullMQ queues shown in Bull Board. */
  queues(): readonly Queue[] | Promise<readonly Queue[]>;
}

export interface WebViewOptions {
  readonly store: ResultsStore;
  readonly data?: LabData;
  readonly logger?: Logger;
}

export async function mountWebView(app: FastifyInstance, options: WebViewOptions): Promise<void> {
  const { store, data } = options;
  const storedReports = async (): Promise<(id: string) => string | undefined> => {
    const stored = new Set(await store.list());
    return (id) => (stored.has(id) ? `/results/${encodeURIComponent(id)}/index.html` : undefined);
  };
  const sendHtml = (body: string) => ({ type: 'text/html; charset=utf-8', body });

  app.get('/', async (_request, reply) => reply.redirect('/jobs'));

  app.get('/jobs', async (request, reply) => {
    const filter = jobFilterFrom(request.query as Record<string, unknown>);
    if (!data) {
      const ids = await store.list();
      const items = ids.map(
        (id) => html`<li><a href="/results/${encodeURIComponent(id)}/index.html">${id}</a></li>`,
      );
      return reply.type('text/html; charset=utf-8').send(
        page(
          'Stored jobs',
          html`<p class="muted">Started without --redis: stored results only.</p>
            <ul id="stored">
              ${items}
            </ul>`,
        ),
      );
    }
    const jobs = await data.listJobs();
    const shown = filterJobs(jobs, filter);
    const { type, body } = sendHtml(jobsPage(shown, filter, jobs.length, await storedReports()));
    return reply.type(type).send(body);
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', async (request, reply) => {
    const job = await data?.getJob(request.params.id);
    if (!job)
      return reply
        .code(404)
        .type('text/html; charset=utf-8')
        .send(page('No such job', html`<p>No job ${request.params.id} in the scheduler.</p>`));
    return reply.type('text/html; charset=utf-8').send(jobPage(job, await storedReports()));
  });

  app.get('/hosts', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(hostsPage(data ? await data.listHosts() : [])),
  );
  app.get('/queue', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(queuePage(data ? await data.listJobs() : [])),
  );

  app.get('/api/jobs', async (request) =>
    filterJobs(data ? await data.listJobs() : [], jobFilterFrom(request.query as Record<string, unknown>)),
  );
  app.get('/api/hosts', async () => (data ? data.listHosts() : []));
  app.get('/api/stored', async () => store.list());

  if (data) {
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath('/bull');
    createBullBoard({
      queues: (await data.queues()).map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
      serverAdapter,
    });
    await app.register(serverAdapter.registerPlugin(), { prefix: '/bull' });
  }
}
