// Fathom's "new meeting content ready", on two routes:
// - POST /v1/webhooks/fathom/:routingId — the webhook Conduit registered for one connection:
//   verified with that connection's own secret, and that connection's delivery. An unknown routing
//   id is a 404; a disconnected connection's, or one whose webhook was replaced, is refused.
// - POST /v1/webhooks/fathom — one operator-registered webhook (CONDUIT_FATHOM_WEBHOOK_SECRET),
//   matched to its account by `recorded_by.email`.
// Verified (Standard Webhooks, on the raw body), validated as a Meeting and stored in the inbox
// (one database call) BEFORE it is acknowledged; then a transcript fetch is queued. A webhook-id
// seen before is acknowledged with 200 and not processed again.
// Each datastore call is bounded: nothing stored in time is a 503 (the sender retries); stored
// but not queued (Redis down or slow) is still a 202, and the inbox sweep queues it later.
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseFathomMeeting, verifyWebhook, WebhookVerificationError } from '@conduit/core';
import { ConnectionWebhookRepository, WebhookDeliveryRepository, type NewDelivery } from '@conduit/db';
import { recordWebhookDelivery } from '@conduit/observability';
import { enqueueTranscripts } from '@conduit/jobs';
import type { AppContext } from '@conduit/runtime';
import { DatastoreTimeout, within } from '../../edge/datastore-errors.ts';
import { HttpProblem } from '../../problem.ts';
import { rawBodyOf } from './raw-body.ts';

export function registerFathomWebhook(app: FastifyInstance, ctx: AppContext): void {
  const deliveries = new WebhookDeliveryRepository(ctx.db);
  const routes = new ConnectionWebhookRepository(ctx.db);
  const { webhookToleranceSeconds, webhookStoreTimeoutMs, webhookEnqueueTimeoutMs } = ctx.config.api;

  /** False when the fetch could not be queued in time; the delivery waits for the inbox sweep. */
  async function queueFetch(
    log: FastifyBaseLogger,
    connectionId: string,
    recordingId: number,
    deliveryId: string,
  ) {
    try {
      await within(
        enqueueTranscripts(ctx.queues, connectionId, [recordingId], deliveryId),
        webhookEnqueueTimeoutMs,
        'redis',
        'the transcript enqueue',
      );
      return true;
    } catch (err) {
      log.warn(
        { deliveryId, recordingId, connectionId, err: (err as Error).message },
        'webhook: delivery stored but its transcript fetch not queued; the inbox sweep will queue it',
      );
      return false;
    }
  }

  app.post('/v1/webhooks/fathom', async (req, reply) => {
    const secret = ctx.config.security.fathomWebhookSecret;
    if (secret === undefined) {
      throw new HttpProblem(
        503,
        'webhooks-not-configured',
        'Fathom webhooks are not configured',
        'this route serves one operator-registered webhook: set CONDUIT_FATHOM_WEBHOOK_SECRET (per-connection webhooks post to /v1/webhooks/fathom/<routing id>)',
      );
    }
    return accept(req, reply, secret, (meeting) => {
      const email = meeting.recorded_by?.email;
      return email ? { email } : null;
    });
  });

  app.post<{ Params: { routingId: string } }>(
    '/v1/webhooks/fathom/:routingId',
    { schema: { params: { type: 'object', properties: { routingId: { type: 'string', maxLength: 64 } } } } },
    async (req, reply) => {
      let route: Awaited<ReturnType<typeof routes.route>>;
      try {
        route = await within(
          routes.route(req.params.routingId),
          webhookStoreTimeoutMs,
          'postgres',
          'the route lookup',
        );
      } catch (err) {
        reply.header('retry-after', '10');
        throw new HttpProblem(
          503,
          'webhook-not-stored',
          'The delivery could not be stored',
          (err as Error).message,
        );
      }
      if (route === null || route.provider !== 'fathom') {
        throw new HttpProblem(
          404,
          'unknown-webhook',
          'No such webhook',
          'this URL names no webhook Conduit registered',
        );
      }
      if (route.status === 'disconnected' || route.secretEnc === null) {
        // 410: Svix-style senders disable an endpoint that answers Gone.
        throw new HttpProblem(
          410,
          'webhook-gone',
          'This webhook is no longer in use',
          'its connection was disconnected or its webhook replaced; nothing is accepted here',
        );
      }
      const secret = ctx.vault.decrypt(route.secretEnc);
      return accept(req, reply, secret, () => ({ connectionId: route.connectionId }));
    },
  );

  async function accept(
    req: FastifyRequest,
    reply: FastifyReply,
    secret: string,
    accountOf: (meeting: { recorded_by?: { email?: string | null } | null }) => NewDelivery['account'],
  ) {
    const raw = rawBodyOf(req.body);
    let verified: { id: string; timestamp: Date };
    try {
      verified = verifyWebhook({
        secret,
        headers: req.headers,
        rawBody: raw,
        now: new Date(),
        toleranceSeconds: webhookToleranceSeconds,
      });
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      throw new HttpProblem(
        401,
        'invalid-webhook-signature',
        'The webhook could not be verified',
        err.message,
        {
          reason: err.reason,
        },
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpProblem(
        400,
        'malformed-webhook',
        'The webhook body is not JSON',
        'expected a Fathom Meeting as JSON',
      );
    }
    const meeting = parseFathomMeeting(body);
    if (!meeting.ok) {
      throw new HttpProblem(
        400,
        'not-a-meeting',
        'The webhook body is not a Fathom Meeting',
        meeting.problem,
      );
    }
    const recordingId = meeting.value.recording_id;
    let recorded: Awaited<ReturnType<typeof deliveries.record>>;
    try {
      recorded = await within(
        deliveries.record(
          {
            provider: 'fathom',
            deliveryId: verified.id,
            sentAt: verified.timestamp,
            body: raw,
            account: accountOf(meeting.value),
          },
          new Date(),
        ),
        webhookStoreTimeoutMs,
        'postgres',
        'the delivery insert',
      );
    } catch (err) {
      req.log.warn({ webhookId: verified.id, err: (err as Error).message }, 'webhook: delivery not stored');
      reply.header('retry-after', '10');
      throw new HttpProblem(
        503,
        'webhook-not-stored',
        'The delivery could not be stored',
        err instanceof DatastoreTimeout
          ? `${err.message}; nothing was acknowledged, send it again later`
          : 'the inbox (Postgres) is unavailable; nothing was acknowledged, send it again later',
      );
    }
    const { delivery } = recorded;
    if (!recorded.stored) {
      // A redelivery. Were the first copy stored but its fetch never queued (a crash in between),
      // queue it now: the job is deduplicated and finds a stored transcript if there is one.
      if (delivery.status === 'received' && delivery.connectionId !== null) {
        await queueFetch(req.log, delivery.connectionId, recordingId, delivery.id);
      }
      recordWebhookDelivery(app.metrics.conduit, 'fathom', 'duplicate');
      return reply.code(200).send({ status: 'duplicate', deliveryId: delivery.id });
    }
    const connectionId = delivery.connectionId;
    const queued =
      connectionId !== null && (await queueFetch(req.log, connectionId, recordingId, delivery.id));
    req.log.info(
      { deliveryId: delivery.id, recordingId, connectionId, queued },
      connectionId !== null
        ? 'webhook: fathom delivery accepted'
        : 'webhook: fathom delivery for an unknown account kept as unmatched',
    );
    const outcome = connectionId !== null ? 'accepted' : 'unmatched';
    recordWebhookDelivery(app.metrics.conduit, 'fathom', outcome);
    return reply.code(202).send({ status: outcome, deliveryId: delivery.id });
  }
}
