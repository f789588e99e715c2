// /healthz: the process is alive. /readyz: it can do its job — Postgres and Redis answer and
// every committed migration has been applied. Each check is bounded (CONDUIT_READY_CHECK_TIMEOUT_MS):
// a datastore that hangs is reported down, so a load balancer hears 503 at once, not a timeout.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '@conduit/runtime';
import { within } from '../edge/datastore-errors.ts';
import { sendProblem, TYPE_BASE } from '../problem.ts';

const MIGRATIONS_DIR = join(import.meta.dirname, '../../../../prisma/migrations');

function committedMigrations(): string[] {
  return readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export async function healthPlugin(app: FastifyInstance, opts: { ctx: AppContext }) {
  const { ctx } = opts;
  const expected = committedMigrations();
  const bound = ctx.config.api.readyCheckTimeoutMs;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    await Promise.all([
      within(ctx.db.$queryRaw`SELECT 1`, bound, 'postgres', 'SELECT 1').then(
        () => (checks.postgres = { ok: true }),
        (err: Error) => (checks.postgres = { ok: false, detail: err.message.split('\n')[0] }),
      ),
      within(ctx.redis.ping(), bound, 'redis', 'PING').then(
        () => (checks.redis = { ok: true }),
        (err: Error) => (checks.redis = { ok: false, detail: err.message }),
      ),
      within(
        ctx.db.$queryRaw<Array<{ migration_name: string }>>`
          SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
        bound,
        'postgres',
        'the migrations query',
      ).then(
        (rows) => {
          const applied = new Set(rows.map((r) => r.migration_name));
          const missing = expected.filter((m) => !applied.has(m));
          checks.migrations = missing.length
            ? { ok: false, detail: `not applied: ${missing.join(', ')} (run npm run db:migrate)` }
            : { ok: true };
        },
        (err: Error) => (checks.migrations = { ok: false, detail: err.message.split('\n')[0] }),
      ),
    ]);
    const failing = Object.entries(checks).filter(([, c]) => !c.ok);
    if (failing.length === 0) return reply.send({ status: 'ready', checks });
    return sendProblem(reply.header('retry-after', '5'), {
      type: TYPE_BASE + 'not-ready',
      title: 'Not ready',
      status: 503,
      detail: failing.map(([name, c]) => `${name}: ${c.detail ?? 'failing'}`).join('; '),
      instance: '/readyz',
      checks,
    });
  });
}
