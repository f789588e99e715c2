// The embedding app's view of its users' connections — safe fields only, never a token — and
// the two things it may do to one: disconnect it, or ask for a sync now.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { PROVIDER_KEYS, providerSpec, type ProviderKey } from '@conduit/core';
import { ConnectionLookup, disconnectConnection, SAFE_CONNECTION_FIELDS } from '@conduit/db';
import { enqueueSync, syncLaneOf, type SyncJobData } from '@conduit/jobs';
import { HttpProblem } from '../../problem.ts';
import type { ConnectDeps } from './deps.ts';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

const notFound = (id: string) =>
  new HttpProblem(404, 'connection-not-found', 'No such connection', `there is no connection ${id}`);

/** Registered inside the API-key scope. */
export function registerConnectionsRoutes(app: FastifyInstance, deps: ConnectDeps): void {
  const { ctx } = deps;
  const lookup = new ConnectionLookup(ctx.db);

  app.get<{ Querystring: { ownerId?: string; teamId?: string; provider?: ProviderKey } }>(
    '/v1/connections',
    {
      // The query names the owner: request lines (info) would log the raw id.
      logLevel: 'warn',
      config: { scope: 'connections:read' },
      schema: {
        description:
          "One owner's connections (?ownerId=), or a team's (?teamId=, the team integrations); safe fields only.",
        querystring: {
          type: 'object',
          anyOf: [{ required: ['ownerId'] }, { required: ['teamId'] }],
          properties: {
            ownerId: { type: 'string', minLength: 1, maxLength: 255 },
            teamId: { type: 'string', minLength: 1, maxLength: 255 },
            provider: { type: 'string', enum: [...PROVIDER_KEYS] },
          },
        },
      },
    },
    async (req) => ({ items: await lookup.list(req.query) }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/connections/:id',
    { schema: { params: idParams }, config: { scope: 'connections:read' } },
    async (req) => {
      const conn = await ctx.db.connection.findUnique({
        where: { id: req.params.id },
        select: SAFE_CONNECTION_FIELDS,
      });
      if (!conn) throw notFound(req.params.id);
      return conn;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/connections/:id',
    { schema: { params: idParams }, config: { scope: 'connections:write' } },
    async (req) => {
      // The webhook goes first: deleting it at Fathom needs the token the disconnect wipes.
      if (deps.webhooks) {
        const routing = await ctx.connections.routingOf(req.params.id);
        if (
          routing !== null &&
          routing !== undefined &&
          providerSpec(routing.provider).dataSync === 'fathom_meetings'
        ) {
          await deps.webhooks.remove(req.params.id).catch((err: Error) => {
            req.log.warn(
              { connectionId: req.params.id, err: err.message },
              'disconnect: webhook not removed',
            );
          });
        }
      }
      await revokeAtProvider(req.log, req.params.id);
      const conn = await disconnectConnection(ctx.db, req.params.id, new Date());
      if (!conn) throw notFound(req.params.id);
      req.log.info(
        { connectionId: conn.id, provider: conn.provider, owner: ctx.hashOwner(conn.ownerId) },
        'connection: disconnected',
      );
      return conn;
    },
  );

  /**
   * The grant goes too, where the provider can revoke it (catalogue `revocation`), before the
   * tokens are wiped. Best effort: a failure is logged and never blocks the disconnect.
   */
  async function revokeAtProvider(log: FastifyBaseLogger, id: string): Promise<void> {
    if (!deps.revocation) return;
    try {
      const conn = await ctx.connections.findById(id);
      if (!conn || conn.status === 'disconnected') return;
      const outcome = await deps.revocation.revoke(conn.provider, {
        accessToken: conn.accessTokenEnc === null ? null : ctx.vault.decrypt(conn.accessTokenEnc),
        refreshToken: conn.refreshTokenEnc === null ? null : ctx.vault.decrypt(conn.refreshTokenEnc),
      });
      if (outcome.kind === 'failed') {
        log.warn(
          { connectionId: id, provider: conn.provider, detail: outcome.detail },
          'disconnect: the grant was not revoked at the provider',
        );
      } else {
        log.info(
          { connectionId: id, provider: conn.provider, revocation: outcome.kind },
          'disconnect: revocation',
        );
      }
    } catch (err) {
      log.warn({ connectionId: id, err: (err as Error).message }, 'disconnect: revocation not attempted');
    }
  }

  app.post<{ Params: { id: string }; Body: { mode: SyncJobData['mode']; limit?: number } }>(
    '/v1/connections/:id/sync',
    {
      config: { scope: 'connections:write' },
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['mode'],
          additionalProperties: false,
          properties: {
            mode: { type: 'string', enum: ['incremental', 'full'] },
            limit: { type: 'integer', minimum: 1, maximum: 100_000 },
          },
        },
      },
    },
    async (req, reply) => {
      const conn = await ctx.db.connection.findUnique({
        where: { id: req.params.id },
        select: { id: true, provider: true, status: true },
      });
      if (!conn) throw notFound(req.params.id);
      if (syncLaneOf(conn.provider) === undefined) {
        throw new HttpProblem(
          409,
          'sync-not-supported',
          'Nothing to sync',
          `${conn.provider} connections have no data sync`,
        );
      }
      if (conn.status !== 'connected' && conn.status !== 'token_expired') {
        throw new HttpProblem(
          409,
          'connection-not-usable',
          'The connection cannot sync',
          `the connection is ${conn.status}; the user must reconnect first`,
          { connectionStatus: conn.status },
        );
      }
      const job = await enqueueSync(ctx.queues, conn.provider, {
        connectionId: conn.id,
        mode: req.body.mode,
        reason: 'manual',
        ...(req.body.limit !== undefined && { limit: req.body.limit }),
      });
      return reply.code(202).send(job);
    },
  );
}
