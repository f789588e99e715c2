// POST /v1/connect/:provider/start — the embedding app asks for a consent URL for one of its
// users and opens it (in a popup, usually). The state and PKCE verifier stay here.
import { scopesFor, providerSpec } from '@conduit/core';
import type { FastifyInstance } from 'fastify';
import { endpointsOf } from '@conduit/runtime';
import { clientConfig } from '@conduit/config';
import { HttpProblem } from '../../problem.ts';
import { buildAuthorizeUrl } from './authorize-url.ts';
import { requireEnabledProvider, type ConnectDeps } from './deps.ts';
import { newPkce, newState } from './oauth-secrets.ts';
import { validateReturnTo } from './return-to.ts';

interface StartBody {
  ownerId: string;
  teamId?: string;
  returnTo?: string;
  products?: string[];
}

const startSchema = {
  params: { type: 'object', required: ['provider'], properties: { provider: { type: 'string' } } },
  body: {
    type: 'object',
    required: ['ownerId'],
    additionalProperties: false,
    properties: {
      ownerId: { type: 'string', minLength: 1, maxLength: 255 },
      teamId: { type: 'string', minLength: 1, maxLength: 255 },
      returnTo: { type: 'string', minLength: 1, maxLength: 2048 },
      products: { type: 'array', maxItems: 20, uniqueItems: true, items: { type: 'string', maxLength: 64 } },
    },
  },
} as const;

/** Registered inside the API-key scope. */
export function registerStartRoute(app: FastifyInstance, deps: ConnectDeps): void {
  const { ctx } = deps;
  app.post<{ Params: { provider: string }; Body: StartBody }>(
    '/v1/connect/:provider/start',
    { schema: startSchema, config: { scope: 'connections:write' } },
    async (req) => {
      const provider = requireEnabledProvider(ctx, req.params.provider);
      const spec = providerSpec(provider);
      let scopes: string[];
      try {
        scopes = scopesFor(spec, req.body.products ?? []);
      } catch (err) {
        throw new HttpProblem(400, 'unknown-product', 'Unknown product', (err as Error).message);
      }
      const returnTo =
        req.body.returnTo === undefined
          ? null
          : validateReturnTo(req.body.returnTo, ctx.config.api.appOrigin);
      const { state, stateHash } = newState();
      const pkce = spec.pkce ? newPkce() : undefined;
      const redirectUri = `${ctx.config.api.publicUrl}/v1/connect/${provider}/callback`;
      const expiresAt = new Date(Date.now() + ctx.config.api.oauthStateTtlSeconds * 1000);
      await deps.states.create({
        stateHash,
        provider,
        ownerId: req.body.ownerId,
        teamId: req.body.teamId ?? null,
        returnTo,
        codeVerifierEnc: pkce ? ctx.vault.encrypt(pkce.verifier) : null,
        redirectUri,
        expiresAt,
      });
      const client = clientConfig(ctx.config.providers, provider);
      const authUrl = buildAuthorizeUrl(spec, {
        authorizeUrl: endpointsOf(ctx.config, provider).authorizeUrl,
        clientId: client.clientId!,
        redirectUri,
        scopes,
        state,
        codeChallenge: pkce?.challenge,
      });
      req.log.info({ provider, owner: ctx.hashOwner(req.body.ownerId) }, 'connect: started');
      return { authUrl, expiresAt: expiresAt.toISOString() };
    },
  );
}
