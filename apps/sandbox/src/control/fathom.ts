// Simulated Fathom activity: seed past meetings, record new ones (→ webhook deliveries).
import type { FastifyInstance } from 'fastify';
import { recordMeetings, seedPastMeetings } from '../fathom/recordings.ts';
import { WEBHOOK_TRIGGERS, type WebhookTrigger } from '../fathom/store.ts';
import type { SandboxState } from '../state.ts';
import { ControlError } from './errors.ts';
import { findGrant } from './grants.ts';

interface MeetingsBody {
  grantId: string;
  count?: number;
  days?: number;
  trigger?: WebhookTrigger;
  /** false: the meeting is recorded but nothing is delivered (the caller plays the sender itself) */
  deliver?: boolean;
}

const body = (maxCount: number, required: string[]) =>
  ({
    type: 'object',
    required,
    additionalProperties: false,
    properties: {
      grantId: { type: 'string' },
      count: { type: 'integer', minimum: 1, maximum: maxCount },
      days: { type: 'integer', minimum: 1, maximum: 3650 },
      trigger: { type: 'string', enum: [...WEBHOOK_TRIGGERS] },
      deliver: { type: 'boolean' },
    },
  }) as const;

export function registerFathomControl(app: FastifyInstance, sb: SandboxState): void {
  const fathomGrant = (grantId: string) => {
    const grant = findGrant(sb, grantId);
    if (grant.provider !== 'fathom') {
      throw new ControlError(
        400,
        `grant "${grantId}" is a ${grant.provider} grant; meetings need a fathom grant`,
      );
    }
    return grant;
  };

  app.post<{ Body: MeetingsBody }>(
    '/fathom/meetings',
    { schema: { body: body(10_000, ['grantId', 'count']) } },
    async (req) => {
      const grant = fathomGrant(req.body.grantId);
      const meetings = seedPastMeetings(sb, grant, req.body.count ?? 1, req.body.days ?? 30, Date.now());
      return {
        created: meetings.length,
        recordingIds: meetings.map((m) => m.recording_id),
        oldest: meetings[0]?.created_at ?? null,
        newest: meetings[meetings.length - 1]?.created_at ?? null,
      };
    },
  );

  app.post<{ Body: MeetingsBody }>(
    '/fathom/recordings',
    { schema: { body: body(1000, ['grantId']) } },
    async (req) => {
      const grant = fathomGrant(req.body.grantId);
      const recorded = recordMeetings(sb, grant, req.body.count ?? 1, Date.now(), req.body.trigger, {
        deliver: req.body.deliver ?? true,
      });
      return {
        recordings: recorded.meetings.map((m) => ({
          recording_id: m.recording_id,
          created_at: m.created_at,
        })),
        deliveries: recorded.deliveries.map((d) => ({ id: d.id, webhookId: d.webhookId, url: d.url })),
      };
    },
  );

  app.get('/fathom/deliveries', async () => ({ deliveries: sb.webhooks.list() }));

  // Every registered webhook, with its account (never its secret): what tests check after a connect.
  app.get('/fathom/webhooks', async () => ({
    webhooks: sb.fathom.allWebhooks().map((w) => ({
      id: w.id,
      accountId: w.accountId,
      url: w.destinationUrl,
      triggeredFor: w.triggeredFor,
      createdAt: w.createdAt,
    })),
  }));

  // The user deleting a webhook in Fathom's settings, behind the client's back.
  app.delete<{ Params: { id: string } }>('/fathom/webhooks/:id', async (req) => {
    if (!sb.fathom.removeWebhook(req.params.id))
      throw new ControlError(404, `there is no webhook "${req.params.id}"`);
    return { deleted: req.params.id };
  });
}
