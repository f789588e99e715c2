// The token API: an application reads a connection's access token — by connection id, or the
// way the seeds ask for it, by owner and provider — refreshed inline when due. `forceRefresh`
// is for a token the provider refused with a 401; it is limited per connection (see
// forced-refresh-window.ts). Needs an API key with `tokens:read`; answers are never cached.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ProviderKey } from '@conduit/core';
import { ConnectionLookup } from '@conduit/db';
import type { AppContext } from '@conduit/runtime';
import { HttpProblem } from '../../problem.ts';
import { useApiKeys } from '../api-keys/index.ts';
import { API_KEY_SECURITY, problems, providerSchema, uuidParam } from '../openapi/shared-schemas.ts';
import type { Tokens } from './create.ts';
import { readToken } from './read-token.ts';
import type { AccessTokenAnswer } from './token-service.ts';

export interface TokensPluginOptions {
  ctx: AppContext;
  tokens: Tokens;
}

const accessTokenSchema = {
  type: 'object',
  required: ['accessToken', 'tokenType', 'expiresAt', 'scopes', 'connectionId', 'provider'],
  properties: {
    accessToken: { type: 'string', description: 'send it as "Authorization: Bearer <accessToken>"' },
    tokenType: { type: 'string', enum: ['Bearer'] },
    expiresAt: { type: ['string', 'null'], format: 'date-time', description: 'null: never expires' },
    scopes: { type: 'array', items: { type: 'string' } },
    connectionId: { type: 'string', format: 'uuid' },
    provider: providerSchema,
  },
} as const;

const forceRefreshQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    forceRefresh: {
      type: 'boolean',
      description:
        'the provider refused this token (401): refresh now. At most one per connection per CONDUIT_FORCE_REFRESH_WINDOW_SECONDS; later ones get the token it stored.',
    },
  },
} as const;

const tokenResponses = { 200: accessTokenSchema, ...problems(400, 401, 403, 404, 409, 503) };

export async function tokensPlugin(app: FastifyInstance, { ctx, tokens }: TokensPluginOptions) {
  useApiKeys(app, ctx.config.security.apiKeys);
  const lookup = new ConnectionLookup(ctx.db);

  app.get<{ Params: { id: string }; Querystring: { forceRefresh?: boolean } }>(
    '/v1/connections/:id/access-token',
    {
      config: { scope: 'tokens:read' },
      schema: {
        summary: "A connection's access token, refreshed when due",
        tags: ['tokens'],
        security: API_KEY_SECURITY,
        params: { type: 'object', required: ['id'], properties: { id: uuidParam } },
        querystring: forceRefreshQuery,
        response: tokenResponses,
      },
    },
    async (req, reply) => {
      const answer = await readToken(ctx, tokens, req, reply, req.params.id, {
        forceRefresh: req.query.forceRefresh,
        via: 'api',
      });
      return send(reply, answer);
    },
  );

  app.get<{
    Params: { ownerId: string; provider: ProviderKey };
    Querystring: { forceRefresh?: boolean };
  }>(
    '/v1/owners/:ownerId/connections/:provider/access-token',
    {
      // The path names the owner: request lines (info) would log the raw id.
      logLevel: 'warn',
      config: { scope: 'tokens:read' },
      schema: {
        summary: "The access token of an owner's connection to a provider (how the seeds ask)",
        tags: ['tokens'],
        security: API_KEY_SECURITY,
        params: {
          type: 'object',
          required: ['ownerId', 'provider'],
          properties: { ownerId: { type: 'string', minLength: 1, maxLength: 255 }, provider: providerSchema },
        },
        querystring: forceRefreshQuery,
        response: tokenResponses,
      },
    },
    async (req, reply) => {
      const id = await lookup.idOf(req.params.ownerId, req.params.provider);
      if (id === null) {
        tokens.reads.inc({ provider: req.params.provider, result: 'not_found', via: 'api' });
        throw new HttpProblem(
          404,
          'connection-not-found',
          'No such connection',
          `this owner has no ${req.params.provider} connection; start one with POST /v1/connect/${req.params.provider}/start`,
          { code: 'not_found' },
        );
      }
      const answer = await readToken(ctx, tokens, req, reply, id, {
        forceRefresh: req.query.forceRefresh,
        via: 'api',
      });
      return send(reply, answer);
    },
  );
}

function send(reply: FastifyReply, answer: AccessTokenAnswer) {
  reply.header('cache-control', 'no-store');
  if (answer.forced !== undefined) reply.header('conduit-force-refresh', answer.forced);
  const { ownerId: _owner, forced: _forced, ...body } = answer;
  return body;
}
