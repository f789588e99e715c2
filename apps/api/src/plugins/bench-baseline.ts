// Benchmarks only: `POST /_bench/insert` stores the request body as a webhook delivery with one
// INSERT (the statement the webhook inbox runs) and answers 202. It is the floor the
// webhooks benchmark measures the real route against: same process, same logger, same Prisma
// driver. It exists only when CONDUIT_BENCH_BASELINE_ROUTE=1 and is refused in production, since
// it writes whatever anyone posts.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '@conduit/runtime';

export const BENCH_BASELINE_PATH = '/_bench/insert';
export const BENCH_BASELINE_ENV = 'CONDUIT_BENCH_BASELINE_ROUTE';

export function benchBaselineEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[BENCH_BASELINE_ENV] === '1';
}

export async function benchBaselinePlugin(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  if (ctx.config.runtime.isProduction) {
    throw new Error(
      `${BENCH_BASELINE_ENV}=1 adds an unauthenticated insert route for benchmarks; unset it in production`,
    );
  }
  app.post(BENCH_BASELINE_PATH, async (req, reply) => {
    const header = req.headers['webhook-id'];
    const id = `baseline:${typeof header === 'string' && header !== '' ? header : randomUUID()}`;
    const now = new Date();
    // Raw SQL, the cheapest path through the same client: the floor, not a straw man. It stores
    // what the inbox stores: the body's bytes and the body as jsonb.
    const json = JSON.stringify(req.body ?? {});
    await ctx.db.$executeRaw`
      INSERT INTO "WebhookDelivery" (id, provider, "deliveryId", "sentAt", "receivedAt", body, payload, status)
      VALUES (gen_random_uuid(), 'fathom'::text, ${id}, ${now}, ${now},
              ${Buffer.from(json)}::bytea, ${json}::jsonb, 'unmatched'::"WebhookStatus")
      ON CONFLICT (provider, "deliveryId") DO NOTHING`;
    return reply.code(202).send({ status: 'stored' });
  });
}
