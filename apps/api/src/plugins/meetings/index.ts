// The data Conduit syncs, for applications: a connection's meetings (newest first, keyset
// pages, `?since=`), and one meeting with its transcript and summary when stored. Needs an API
// key with `meetings:read`.
import type { FastifyInstance } from 'fastify';
import { ConnectionLookup, MeetingReads } from '@conduit/db';
import type { AppContext } from '@conduit/runtime';
import { HttpProblem } from '../../problem.ts';
import { useApiKeys } from '../api-keys/index.ts';
import { API_KEY_SECURITY, problems, uuidParam } from '../openapi/shared-schemas.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { fullMeetingSchema, fullMeetingView, listedMeetingSchema, listedMeetingView } from './views.ts';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

interface ListQuery {
  since?: string;
  cursor?: string;
  limit?: number;
}

export async function meetingsPlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  useApiKeys(app, ctx.config.security.apiKeys);
  const lookup = new ConnectionLookup(ctx.db);
  const meetings = new MeetingReads(ctx.db);

  app.get<{ Params: { id: string }; Querystring: ListQuery }>(
    '/v1/connections/:id/meetings',
    {
      config: { scope: 'meetings:read' },
      schema: {
        summary: "A connection's synced meetings, newest first",
        tags: ['meetings'],
        security: API_KEY_SECURITY,
        params: { type: 'object', required: ['id'], properties: { id: uuidParam } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            since: { type: 'string', format: 'date-time', description: 'only meetings created at or after' },
            cursor: { type: 'string', maxLength: 512, description: 'nextCursor of the previous page' },
            limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['items', 'nextCursor'],
            properties: {
              items: { type: 'array', items: listedMeetingSchema },
              nextCursor: { type: ['string', 'null'], description: 'null on the last page' },
            },
          },
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const after = req.query.cursor === undefined ? undefined : decodeCursor(req.query.cursor);
      if ((await lookup.safeById(req.params.id)) === null) throw notFound('connection', req.params.id);
      const limit = req.query.limit ?? DEFAULT_LIMIT;
      const page = await meetings.page({
        connectionId: req.params.id,
        since: req.query.since === undefined ? undefined : new Date(req.query.since),
        after,
        limit,
      });
      const last = page.items.at(-1);
      return {
        items: page.items.map(listedMeetingView),
        nextCursor: page.more && last ? encodeCursor(last) : null,
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/meetings/:id',
    {
      config: { scope: 'meetings:read' },
      schema: {
        summary: 'One meeting, with its transcript and summary when stored',
        tags: ['meetings'],
        security: API_KEY_SECURITY,
        params: { type: 'object', required: ['id'], properties: { id: uuidParam } },
        response: { 200: fullMeetingSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const meeting = await meetings.one(req.params.id);
      if (meeting === null) throw notFound('meeting', req.params.id);
      return fullMeetingView(meeting);
    },
  );
}

function notFound(what: 'connection' | 'meeting', id: string): HttpProblem {
  return new HttpProblem(404, `${what}-not-found`, `No such ${what}`, `there is no ${what} ${id}`, {
    code: 'not_found',
  });
}
