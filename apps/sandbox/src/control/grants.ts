// Seeding grants at scale, reading their state, revoking and expiring them.
import { PROVIDER_KEYS, type ProviderKey, providerSpec } from '@conduit/core';
import type { FastifyInstance } from 'fastify';
import type { Grant } from '../grants/store.ts';
import type { SandboxState } from '../state.ts';
import { ControlError } from './errors.ts';
import { grantState, seededGrant, type SeededGrant } from './views.ts';

export const MAX_GRANTS_PER_CALL = 100_000;

interface CreateGrantsBody {
  provider: ProviderKey;
  count?: number;
  email?: string;
  emailPrefix?: string;
  emailDomain?: string;
  accessTokenTtlSeconds?: number;
  scope?: string[];
}

// the catalogue's live list: providers declared before the sandbox starts are all accepted
const provider = { type: 'string', enum: PROVIDER_KEYS } as const;

export function findGrant(sb: SandboxState, grantId: string): Grant {
  const grant = sb.grants.byId.get(grantId);
  if (!grant) throw new ControlError(404, `no grant "${grantId}"; create one with POST /_sandbox/grants`);
  return grant;
}

export function registerGrantControl(app: FastifyInstance, sb: SandboxState): void {
  app.post<{ Body: CreateGrantsBody }>(
    '/grants',
    {
      schema: {
        body: {
          type: 'object',
          required: ['provider'],
          additionalProperties: false,
          properties: {
            provider,
            count: { type: 'integer', minimum: 1, maximum: MAX_GRANTS_PER_CALL },
            email: { type: 'string', minLength: 3 },
            emailPrefix: { type: 'string', minLength: 1 },
            emailDomain: { type: 'string', minLength: 1 },
            accessTokenTtlSeconds: { type: 'integer', minimum: 1 },
            scope: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
    async (req) => {
      const body = req.body;
      const count = body.count ?? 1;
      const now = Date.now();
      const clientId = sb.clients.forProvider(body.provider).clientId;
      const scope = body.scope ?? [...providerSpec(body.provider).scopes.default];
      const grants: SeededGrant[] = new Array<SeededGrant>(count);
      for (let i = 0; i < count; i++) {
        const email =
          body.email ??
          (body.emailPrefix === undefined
            ? undefined
            : `${body.emailPrefix}${i + 1}@${body.emailDomain ?? 'example.com'}`);
        const account = sb.accounts.getOrCreate(body.provider, email);
        const issued = sb.grants.create({
          provider: body.provider,
          account,
          clientId,
          scope,
          now,
          accessTtlSeconds: body.accessTokenTtlSeconds,
        });
        grants[i] = seededGrant(issued);
      }
      return { grants };
    },
  );

  app.get<{ Querystring: { provider?: ProviderKey; offset?: number; limit?: number } }>(
    '/grants',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            provider,
            offset: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 100_000 },
          },
        },
      },
    },
    async (req) => {
      const { provider: only, offset = 0, limit = 1000 } = req.query;
      const all = [...sb.grants.byId.values()].filter((g) => only === undefined || g.provider === only);
      return { total: all.length, offset, grants: all.slice(offset, offset + limit).map(grantState) };
    },
  );

  app.get<{ Params: { grantId: string } }>('/grants/:grantId', async (req) =>
    grantState(findGrant(sb, req.params.grantId)),
  );

  app.post<{ Params: { grantId: string } }>('/grants/:grantId/revoke', async (req) => {
    const grant = findGrant(sb, req.params.grantId);
    sb.revokeFamily(grant, 'revoked_by_control', Date.now());
    return grantState(grant);
  });

  app.post<{ Body: { grantIds: string[] } }>(
    '/grants/revoke',
    {
      schema: {
        body: {
          type: 'object',
          required: ['grantIds'],
          properties: {
            grantIds: { type: 'array', items: { type: 'string' }, maxItems: MAX_GRANTS_PER_CALL },
          },
        },
      },
    },
    async (req) => {
      const grants = req.body.grantIds.map((id) => findGrant(sb, id));
      const now = Date.now();
      for (const grant of grants) sb.revokeFamily(grant, 'revoked_by_control', now);
      return { revoked: grants.length };
    },
  );

  // Lets tests reach "expired" without waiting for it: the current access token (true), an
  // earlier one of the grant (its value), and/or the refresh token.
  app.post<{
    Params: { grantId: string };
    Body: { accessToken?: boolean | string; refreshToken?: boolean } | undefined;
  }>(
    '/grants/:grantId/expire',
    {
      schema: {
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            accessToken: { anyOf: [{ type: 'boolean' }, { type: 'string', minLength: 1 }] },
            refreshToken: { type: 'boolean' },
          },
        },
      },
    },
    async (req) => {
      const grant = findGrant(sb, req.params.grantId);
      const now = Date.now();
      const { accessToken = true, refreshToken = false } = req.body ?? {};
      const record =
        typeof accessToken === 'string'
          ? sb.grants.byAccessToken(accessToken)
          : accessToken
            ? grant.access
            : null;
      if (record === undefined || (record && record.grant !== grant)) {
        throw new ControlError(400, `that access token was not issued to grant "${grant.id}"`);
      }
      if (record) record.expiresAt = Math.min(record.expiresAt, now);
      if (refreshToken) grant.refreshExpiresAt = Math.min(grant.refreshExpiresAt, now);
      return grantState(grant);
    },
  );
}
