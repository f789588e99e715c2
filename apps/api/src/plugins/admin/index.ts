// The operator surface: Bull Board (/admin/queues, read-only twin at /admin/queues/view) and the
// connection-health page (/admin/health, /admin/health.json), all behind operator sign-in.
import type { FastifyError, FastifyInstance } from 'fastify';
import { CONNECTION_STATUSES, PROVIDER_KEYS, type ConnectionStatus, type ProviderKey } from '@conduit/core';
import { TOKEN_STATES, type TokenState } from '@conduit/db';
import type { AppContext } from '@conduit/runtime';
import { operatorAuth, type RefuseWith } from './auth.ts';
import { bullBoardPlugin, viewerBoardPath } from './bull-board.ts';
import { HEALTH_PAGE_CSP, renderHealthPage } from './health-page.ts';
import { healthSource } from './health-snapshot.ts';

export async function adminPlugin(app: FastifyInstance, opts: { ctx: AppContext }) {
  const { ctx } = opts;
  // The API's problem handler, captured here: Bull Board's routes have an error handler of their own.
  const problemHandler = app.errorHandler;
  const refuse: RefuseWith = (problem, req, reply) =>
    problemHandler.call(app, problem as unknown as FastifyError, req, reply);

  app.addHook('onRequest', operatorAuth(ctx.config.security.operators, refuse, app.signInThrottle));
  app.addHook('onRequest', async (req, reply) => {
    if (req.operator?.role !== 'viewer' || req.method !== 'GET') return;
    const [path = '', query] = req.url.split('?');
    const target = viewerBoardPath(path);
    if (target) return reply.redirect(query === undefined ? target : `${target}?${query}`, 303);
  });

  await app.register(bullBoardPlugin, { queues: ctx.queues.all() });

  const snapshot = healthSource(ctx);
  app.get('/admin', async (_req, reply) => reply.redirect('/admin/health', 303));
  app.get<{ Querystring: HealthQuery }>(
    '/admin/health',
    { schema: { querystring: healthQuery() } },
    async (req, reply) => {
      const page = renderHealthPage(await snapshot(filterOf(req.query)), req.operator);
      return reply
        .header('content-security-policy', HEALTH_PAGE_CSP)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(page);
    },
  );
  app.get<{ Querystring: HealthQuery }>(
    '/admin/health.json',
    { schema: { querystring: healthQuery() } },
    async (req, reply) => reply.header('cache-control', 'no-store').send(await snapshot(filterOf(req.query))),
  );
}

/** The per-connection table's filters, from the query string (an empty select means "any"). */
interface HealthQuery {
  q?: string;
  provider?: ProviderKey | '';
  status?: ConnectionStatus | '';
  token?: TokenState | '';
  page?: number;
}

/** Built when the routes are: the provider filter takes every provider declared by then. */
const healthQuery = () => ({
  type: 'object',
  properties: {
    q: { type: 'string', maxLength: 200 },
    provider: { type: 'string', enum: ['', ...PROVIDER_KEYS] },
    status: { type: 'string', enum: ['', ...CONNECTION_STATUSES] },
    token: { type: 'string', enum: ['', ...TOKEN_STATES] },
    page: { type: 'integer', minimum: 1, maximum: 100_000 },
  },
});

function filterOf(q: HealthQuery) {
  return {
    search: q.q?.trim() || undefined,
    provider: q.provider || undefined,
    status: q.status || undefined,
    token: q.token || undefined,
    page: q.page ?? 1,
  };
}
