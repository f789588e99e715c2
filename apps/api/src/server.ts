// The HTTP surface, as Fastify plugins: each feature registers its own routes.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppContext } from '@conduit/runtime';
import { adminPlugin } from './plugins/admin/index.ts';
import { benchBaselineEnabled, benchBaselinePlugin } from './plugins/bench-baseline.ts';
import { connectPlugin } from './plugins/connect/index.ts';
import { healthPlugin } from './plugins/health.ts';
import { createApiMetrics, metricsPlugin } from './plugins/metrics.ts';
import { webhooksPlugin } from './plugins/webhooks/index.ts';
import { installProblemHandler } from './problem.ts';
import { registerOpenApi } from './plugins/openapi/index.ts';
import { createTokens } from './plugins/tokens/create.ts';
import { tokensPlugin } from './plugins/tokens/index.ts';
import { meetingsPlugin } from './plugins/meetings/index.ts';
import { proxyPlugin } from './plugins/proxy/index.ts';

export async function buildServer(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger and Fastify's logger interface differ only in generics.
    loggerInstance: ctx.logger as unknown as FastifyBaseLogger,
    bodyLimit: ctx.config.api.webhookMaxBodyBytes,
    trustProxy: ctx.config.runtime.isProduction,
  });
  installProblemHandler(app);
  await registerOpenApi(app);
  await app.register(healthPlugin, { ctx });
  const metrics = createApiMetrics(ctx);
  app.decorate('metrics', metrics);
  await app.register(metricsPlugin, { metrics });
  await app.register(adminPlugin, { ctx });
  await app.register(connectPlugin, { ctx });
  await app.register(webhooksPlugin, { ctx });
  const tokens = createTokens(ctx, metrics);
  app.addHook('onClose', () => tokens.close());
  await app.register(tokensPlugin, { ctx, tokens });
  await app.register(meetingsPlugin, { ctx });
  await app.register(proxyPlugin, { ctx, tokens });
  if (benchBaselineEnabled()) await app.register(benchBaselinePlugin, { ctx });
  return app;
}
