// The embedding app's view of its users' connections — safe fields only, never a token — and
// the two things it may do to one: disconnect it, or ask for a sync now.
import type { FastifyInstance } from 'fastify';
import { PROVIDER_KEYS, providerSpec, type ProviderKey } from '@conduit/core';
import {
  ConnectionLookup,
  disconnectConnection,
  purgeConnectionData,
  SAFE_CONNECTION_FIELDS,
} from '@conduit/db';
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

  app.delete<{ Params: { id: string }; Querystring: { purge?: boolean } }>(
    '/v1/connections/:id',
    {
      config: { scope: 'connections:write' },
      schema: {
        description:
          'Disconnects: the tokens are wiped at once and the grant is revoked at the provider where it offers revocation (in the background, retried until the provider confirms). The synced data (meetings, transcripts, webhook deliveries) is kept for CONDUIT_DISCONNECTED_RETENTION_DAYS, then purged; `?purge=true` purges it now. The connection and its status events stay, as the audit.',
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            purge: {
              type: 'boolean',
              default: false,
              description: "also delete the connection's synced data now",
            },
          },
        },
      },
    },
    async (req) => {
      const id = req.params.id;
      // The webhook goes first: deleting it at Fathom needs the token the disconnect wipes.
      if (deps.webhooks) {
        const routing = await ctx.connections.routingOf(id);
        if (routing && providerSpec(routing.provider).dataSync === 'fathom_meetings') {
          await deps.webhooks.remove(id).catch((err: Error) => {
            req.log.warn({ connectionId: id, err: err.message }, 'disconnect: webhook not removed');
          });
        }
      }
      const done = await disconnectConnection(ctx.db, id, new Date());
      if (!done) throw notFound(id);
      const { connection: conn } = done;
      if (done.previousStatus !== 'disconnected') {
        req.log.info(
          {
            connectionId: conn.id,
            provider: conn.provider,
            owner: ctx.hashOwner(conn.ownerId),
            revocation: done.revocationId === null ? providerSpec(conn.provider).revocation.kind : 'queued',
          },
          'connection: disconnected',
        );
      }
      // The grant is revoked after the answer; the worker retries what fails.
      if (done.revocationId !== null) deps.revocations?.attemptSoon(done.revocationId);
      if (!req.query.purge) return conn;
      const purged = await purgeConnectionData(ctx.db, id, new Date());
      if (purged.kind !== 'purged') throw notFound(id);
      req.log.info({ connectionId: id, provider: conn.provider, ...purged.counts }, 'connection: purged');
      return { ...conn, externalEmail: null, purged: { at: purged.purgedAt, ...purged.counts } };
    },
  );

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
