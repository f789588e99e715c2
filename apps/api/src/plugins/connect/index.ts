// The OAuth connect flow for every provider in the catalogue, and the connections API. The
// start and /v1/connections routes need the embedding app's API key (with the route's scope); the callback is reached
// by the user's browser and is authenticated by its single-use state instead.
import type { FastifyInstance } from 'fastify';
import { OAuthStateRepository } from '@conduit/db';
import {
  createAccountBudgets,
  createIdentityClient,
  createTokenClient,
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
  app.addHook('onClose', async () => {
    await Promise.all([tokenClient?.close(), identityClient?.close()]);
  });
  const deps: ConnectDeps = {
    ctx,
    tokens: opts.tokens ?? tokenClient!,
    identity: opts.identity ?? identityClient!,
    states: new OAuthStateRepository(ctx.db),
    budgets: createAccountBudgets(ctx),
  };

  registerCallbackRoute(app, deps);
  await app.register(async (authenticated) => {
    useApiKeys(authenticated, ctx.config.security.apiKeys);
    registerStartRoute(authenticated, deps);
    registerConnectionsRoutes(authenticated, deps);
  });
}
