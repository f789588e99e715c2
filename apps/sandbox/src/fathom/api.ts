// Fathom's public API for OAuth apps, under the catalogue's sandbox API base: meetings (keyset
// cursor, created_after/created_before), transcript, summary, teams, team members, webhooks.
// Every route passes the shared API guard (Bearer tokens, faults, 60 calls / 60 s per account).
import { PROVIDERS, type ProviderKey } from '@conduit/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { guardApi } from '../api/guard.ts';
import { formFields } from '../http.ts';
import { randomAlphanumeric } from '../random.ts';
import type { SandboxState } from '../state.ts';
import { newWebhookSecret } from '../standard-webhooks.ts';
import { summaryOf, transcriptOf } from './generator.ts';
import { InvalidCursor, WEBHOOK_TRIGGERS, type Webhook } from './store.ts';

const FATHOM: readonly ProviderKey[] = ['fathom'];
const INCLUDES_FOR_WEBHOOKS_ONLY = [
  'include_transcript',
  'include_summary',
  'include_action_items',
  'include_crm_matches',
];

const badRequest = (reply: FastifyReply, message: string): FastifyReply =>
  reply.code(400).send({ error: message });
const notFound = (reply: FastifyReply): FastifyReply => reply.code(404).send({ error: 'Not Found' });

export function registerFathomApi(app: FastifyInstance, sb: SandboxState): void {
  const base = PROVIDERS.fathom.sandboxPaths.apiBaseUrl;
  const pageSize = sb.options.pageSize;

  app.get(`${base}/meetings`, async (req, reply) => {
    const grant = await guardApi(sb, FATHOM, req, reply);
    if (!grant) return reply;
    const q = formFields(req.query);
    const refused = INCLUDES_FOR_WEBHOOKS_ONLY.find((name) => q[name] === 'true');
    if (refused)
      return badRequest(reply, `${refused} is not available to OAuth apps; fetch /recordings/{id}/… instead`);
    const createdAfter = parseTime(q.created_after);
    const createdBefore = parseTime(q.created_before);
    if (Number.isNaN(createdAfter) || Number.isNaN(createdBefore)) {
      return badRequest(reply, 'created_after and created_before must be ISO 8601 timestamps');
    }
    try {
      const page = sb.fathom.page(
        grant.account.id,
        { createdAfter, createdBefore, cursor: q.cursor },
        pageSize,
      );
      return reply.send({ limit: pageSize, next_cursor: page.nextCursor, items: page.items });
    } catch (error) {
      if (error instanceof InvalidCursor) return badRequest(reply, error.message);
      throw error;
    }
  });

  app.get<{ Params: { id: string } }>(`${base}/recordings/:id/transcript`, async (req, reply) => {
    const grant = await guardApi(sb, FATHOM, req, reply);
    if (!grant) return reply;
    const stored = sb.fathom.recording(grant.account.id, Number(req.params.id));
    return stored ? reply.send({ transcript: transcriptOf(sb.seed, stored.meeting) }) : notFound(reply);
  });

  app.get<{ Params: { id: string } }>(`${base}/recordings/:id/summary`, async (req, reply) => {
    const grant = await guardApi(sb, FATHOM, req, reply);
    if (!grant) return reply;
    const stored = sb.fathom.recording(grant.account.id, Number(req.params.id));
    return stored ? reply.send({ summary: summaryOf(sb.seed, stored.meeting) }) : notFound(reply);
  });

  app.get(`${base}/teams`, async (req, reply) => {
    const grant = await guardApi(sb, FATHOM, req, reply);
    if (!grant) return reply;
    const owner = sb.fathom.owner(grant.account);
    const created_at = new Date(grant.consentedAt - 400 * 86_400_000).toISOString();
    return reply.send({ limit: pageSize, next_cursor: null, items: [{ name: owner.team, created_at }] });
  });

  app.get(`${base}/team_members`, async (req, reply) => {
    const grant = await guardApi(sb, FATHOM, req, reply);
    if (!grant) return reply;
    const owner = sb.fathom.owner(grant.account);
    const team = formFields(req.query).team;
    const members = team !== undefined && team !== owner.team ? [] : [owner, ...owner.colleagues];
    const created_at = new Date(grant.consentedAt - 300 * 86_400_000).toISOString();
    return reply.send({
      limit: pageSize,
      next_cursor: null,
      items: members.map((m) => ({ name: m.name, email: m.email, created_at })),
    });
  });

  app.post(`${base}/webhooks`, async (req, reply) => {
    const grant = await guardApi(sb, FATHOM, req, reply, 'webhooks');
    if (!grant) return reply;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const destination = typeof body.destination_url === 'string' ? body.destination_url : '';
    if (!/^https?:\/\//.test(destination)) return badRequest(reply, 'destination_url must be an http(s) URL');
    const triggeredFor = Array.isArray(body.triggered_for) ? body.triggered_for : [];
    if (
      triggeredFor.length === 0 ||
      !triggeredFor.every((t) => (WEBHOOK_TRIGGERS as readonly unknown[]).includes(t))
    ) {
      return badRequest(reply, `triggered_for must be a non-empty list of: ${WEBHOOK_TRIGGERS.join(', ')}`);
    }
    const flag = (name: string): boolean => body[name] === true;
    if (!INCLUDES_FOR_WEBHOOKS_ONLY.some(flag)) {
      return badRequest(reply, `at least one of ${INCLUDES_FOR_WEBHOOKS_ONLY.join(', ')} must be true`);
    }
    const webhook: Webhook = {
      id: randomAlphanumeric(22),
      accountId: grant.account.id,
      destinationUrl: destination,
      secret: newWebhookSecret(),
      triggeredFor: [...new Set(triggeredFor as string[])],
      includeTranscript: flag('include_transcript'),
      includeSummary: flag('include_summary'),
      includeActionItems: flag('include_action_items'),
      includeCrmMatches: flag('include_crm_matches'),
      createdAt: new Date().toISOString(),
    };
    const list = sb.fathom.webhooks.get(grant.account.id) ?? [];
    list.push(webhook);
    sb.fathom.webhooks.set(grant.account.id, list);
    // The secret is in this answer only: lists and reads never show it again.
    return reply.code(201).send({ ...webhookJson(webhook), secret: webhook.secret });
  });

  // The account's own webhooks only, without secrets.
  app.get(`${base}/webhooks`, async (req, reply) => {
    const grant = await guardApi(sb, FATHOM, req, reply, 'webhooks');
    if (!grant) return reply;
    const items = (sb.fathom.webhooks.get(grant.account.id) ?? []).map(webhookJson);
    return reply.send({ limit: items.length, next_cursor: null, items });
  });

  app.get<{ Params: { id: string } }>(`${base}/webhooks/:id`, async (req, reply) => {
    const grant = await guardApi(sb, FATHOM, req, reply, 'webhooks');
    if (!grant) return reply;
    const webhook = (sb.fathom.webhooks.get(grant.account.id) ?? []).find((w) => w.id === req.params.id);
    return webhook ? reply.send(webhookJson(webhook)) : notFound(reply);
  });

  app.delete<{ Params: { id: string } }>(`${base}/webhooks/:id`, async (req, reply) => {
    const grant = await guardApi(sb, FATHOM, req, reply, 'webhooks');
    if (!grant) return reply;
    const list = sb.fathom.webhooks.get(grant.account.id) ?? [];
    const index = list.findIndex((w) => w.id === req.params.id);
    if (index < 0) return notFound(reply);
    list.splice(index, 1);
    return reply.code(204).send();
  });
}

function webhookJson(w: Webhook): Record<string, unknown> {
  return {
    id: w.id,
    url: w.destinationUrl,
    created_at: w.createdAt,
    include_transcript: w.includeTranscript,
    include_crm_matches: w.includeCrmMatches,
    include_summary: w.includeSummary,
    include_action_items: w.includeActionItems,
    triggered_for: w.triggeredFor,
  };
}

function parseTime(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Date.parse(value);
}
