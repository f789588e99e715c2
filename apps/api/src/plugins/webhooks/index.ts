// Provider webhooks. Encapsulated: the raw-body parser and the 413 mapping apply here only.
import type { FastifyInstance } from 'fastify';
import { recordWebhookDelivery } from '@conduit/observability';
import type { AppContext } from '@conduit/runtime';
import { registerFathomWebhook } from './fathom-route.ts';
import { keepRawBodies } from './raw-body.ts';

export async function webhooksPlugin(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  keepRawBodies(app, opts.ctx.config.api.webhookMaxBodyBytes);
  // Refused deliveries (bad signature, stale, malformed, too large) are counted by status.
  app.addHook('onResponse', async (_req, reply) => {
    if (reply.statusCode >= 400)
      recordWebhookDelivery(app.metrics.conduit, 'fathom', `refused_${reply.statusCode}`);
  });
  registerFathomWebhook(app, opts.ctx);
}
