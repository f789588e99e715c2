// POST /v1/webhooks/fathom — Fathom's "new meeting content ready". Verified (Standard Webhooks,
// on the raw body), validated as a Meeting, matched to its account by `recorded_by.email` and
// stored in the inbox (one database call) BEFORE it is acknowledged; then a transcript fetch is
// queued. A webhook-id seen before is acknowledged with 200 and not processed again.
import type { FastifyInstance } from 'fastify';
import { parseFathomMeeting, verifyWebhook, WebhookVerificationError } from '@conduit/core';
import { WebhookDeliveryRepository } from '@conduit/db';
import { recordWebhookDelivery } from '@conduit/observability';
import { enqueueTranscripts } from '@conduit/jobs';
import type { AppContext } from '@conduit/runtime';
import { HttpProblem } from '../../problem.ts';
import { rawBodyOf } from './raw-body.ts';

export function registerFathomWebhook(app: FastifyInstance, ctx: AppContext): void {
  const deliveries = new WebhookDeliveryRepository(ctx.db);
  const { webhookToleranceSeconds } = ctx.config.api;

  app.post('/v1/webhooks/fathom', async (req, reply) => {
    const secret = ctx.config.security.fathomWebhookSecret;
    if (secret === undefined) {
      throw new HttpProblem(
        503,
        'webhooks-not-configured',
        'Fathom webhooks are not configured',
        'set CONDUIT_FATHOM_WEBHOOK_SECRET',
      );
    }
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
    const email = meeting.value.recorded_by?.email;
    const recorded = await deliveries.record(
      {
        provider: 'fathom',
        deliveryId: verified.id,
        sentAt: verified.timestamp,
        payloadJson: raw.toString('utf8'),
        account: email ? { email } : null,
      },
      new Date(),
    );
    const { delivery } = recorded;
    if (!recorded.stored) {
      // A redelivery. Were the first copy stored but its fetch never queued (a crash in between),
      // queue it now: the job is deduplicated and finds a stored transcript if there is one.
      if (delivery.status === 'received' && delivery.connectionId !== null) {
        await enqueueTranscripts(ctx.queues, delivery.connectionId, [recordingId], delivery.id);
      }
      recordWebhookDelivery(app.metrics.conduit, 'fathom', 'duplicate');
      return reply.code(200).send({ status: 'duplicate', deliveryId: delivery.id });
    }
    const connectionId = delivery.connectionId;
    if (connectionId !== null) await enqueueTranscripts(ctx.queues, connectionId, [recordingId], delivery.id);
    req.log.info(
      { deliveryId: delivery.id, recordingId, connectionId },
      connectionId !== null
        ? 'webhook: fathom delivery accepted'
        : 'webhook: fathom delivery for an unknown account kept as unmatched',
    );
    const outcome = connectionId !== null ? 'accepted' : 'unmatched';
    recordWebhookDelivery(app.metrics.conduit, 'fathom', outcome);
    return reply.code(202).send({ status: outcome, deliveryId: delivery.id });
  });
}
