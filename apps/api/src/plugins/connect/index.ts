// The OAuth connect flow for every provider in the catalogue, and the connections API. The
// start and /v1/connections routes need the embedding app's API key (with the route's scope); the callback is reached
// by the user's browser and is authenticated by its single-use state instead.
import type { FastifyInstance } from 'fastify';
import { OAuthStateRepository } from '@conduit/db';
import {
  createAccountBudgets,
  createFathomWebhookRegistrar,
  createIdentityClient,
  createRefreshDeps,
  createGrantRevocations,
  createTokenClient,
  registersFathomWebhooks,
  type AppContext,
} from '@conduit/runtime';
import { useApiKeys } from '../api-keys/index.ts';
import { registerCallbackRoute } from './callback-route.ts';
import { registerConnectionsRoutes } from './connections-routes.ts';
import type { AccountIdentifier, CodeExchanger, ConnectDeps } from './deps.ts';
import { registerStartRoute } from './start-route.ts';

export interface ConnectPluginOptions {
  ctx: AppContext;
  /** defaults: the configured token client and identity client */
  tokens?: CodeExchanger;
  identity?: AccountIdentifier;
}

export async function connectPlugin(app: FastifyInstance, opts: ConnectPluginOptions): Promise<void> {
  const { ctx } = opts;
  const tokenClient = opts.tokens ? undefined : createTokenClient(ctx.config);
  const identityClient = opts.identity ? undefined : createIdentityClient(ctx.config);
  // Per-connection webhooks get tokens (for disconnect and retries) the way every caller does.
  const webhookTokens = registersFathomWebhooks(ctx.config) ? createTokenClient(ctx.config) : undefined;
  const webhooks = webhookTokens
    ? createFathomWebhookRegistrar(ctx, createRefreshDeps(ctx, webhookTokens))
    : undefined;
  // The api's own attempt right after a disconnect counts in conduit_revocations_total as the worker's do.
  const revocations = createGrantRevocations(ctx, (provider, result) =>
    app.hasDecorator('metrics') ? app.metrics.conduit.revocations.inc({ provider, result }) : undefined,
  );
  app.addHook('onClose', async () => {
    await Promise.all([
      revocations.close(),
      tokenClient?.close(),
      identityClient?.close(),
      webhookTokens?.close(),
      webhooks?.close(),
    ]);
  });
  const deps: ConnectDeps = {
    ctx,
    tokens: opts.tokens ?? tokenClient!,
    identity: opts.identity ?? identityClient!,
    states: new OAuthStateRepository(ctx.db),
    budgets: createAccountBudgets(ctx),
    ...(webhooks && { webhooks: webhooks.registrar }),
    revocations: revocations.drain,
  };

  registerCallbackRoute(app, deps);
  await app.register(async (authenticated) => {
    useApiKeys(authenticated, ctx.config.security.apiKeys);
    registerStartRoute(authenticated, deps);
    registerConnectionsRoutes(authenticated, deps);
  });
}
