// Run-time knobs: faults, holds, client secrets and redirect URIs, the consent answer, reset.
import { PROVIDER_KEYS, type ProviderKey } from '@conduit/core';
import type { FastifyInstance } from 'fastify';
import { FAULT_ENDPOINTS, type FaultEndpoint, type FaultRule } from '../faults.ts';
import type { ConsentDecision } from '../oauth/codes.ts';
import type { SandboxState } from '../state.ts';

// the catalogue's live list: providers declared before the sandbox starts are all accepted
const provider = { type: 'string', enum: PROVIDER_KEYS } as const;
const share = { type: 'number', minimum: 0, maximum: 1 } as const;

export const FAULT_RULE_SCHEMA = {
  rate429: share,
  retryAfterSeconds: { type: 'number', minimum: 0 },
  rateLimitStatus: { type: 'integer', enum: [403, 429] },
  rate5xx: share,
  status5xx: { type: 'integer', minimum: 500, maximum: 599 },
  latencyMs: { type: 'integer', minimum: 0 },
  hangRate: share,
  dropRate: share,
} as const;

type FaultBody = FaultRule & { provider?: ProviderKey | '*'; endpoint?: FaultEndpoint | '*' };

export function registerSettingsControl(app: FastifyInstance, sb: SandboxState): void {
  app.post<{ Body: FaultBody }>(
    '/faults',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            provider: { type: 'string', enum: [...PROVIDER_KEYS, '*'] },
            endpoint: { type: 'string', enum: [...FAULT_ENDPOINTS, '*'] },
            ...FAULT_RULE_SCHEMA,
          },
        },
      },
    },
    async (req) => {
      const { provider: p = '*', endpoint = '*', ...rule } = req.body;
      sb.faults.set(p, endpoint, rule);
      return { faults: sb.faults.snapshot() };
    },
  );

  app.get('/faults', async () => ({ faults: sb.faults.snapshot() }));

  app.delete('/faults', async () => {
    sb.faults.clear();
    return { faults: sb.faults.snapshot() };
  });

  app.post<{ Body: { provider: ProviderKey; endpoint?: FaultEndpoint; processAbandoned?: boolean } }>(
    '/holds',
    {
      schema: {
        body: {
          type: 'object',
          required: ['provider'],
          additionalProperties: false,
          properties: {
            provider,
            endpoint: { type: 'string', enum: [...FAULT_ENDPOINTS] },
            processAbandoned: { type: 'boolean' },
          },
        },
      },
    },
    async (req) => {
      sb.holds.hold(req.body.provider, req.body.endpoint ?? 'token', req.body.processAbandoned ?? false);
      return { holds: sb.holds.status() };
    },
  );

  app.get('/holds', async () => ({ holds: sb.holds.status() }));

  app.post<{ Body: { provider?: ProviderKey; endpoint?: FaultEndpoint } | undefined }>(
    '/holds/release',
    {
      schema: {
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { provider, endpoint: { type: 'string', enum: [...FAULT_ENDPOINTS] } },
        },
      },
    },
    async (req) => ({ released: sb.holds.release(req.body?.provider, req.body?.endpoint) }),
  );

  const clientSchema = {
    params: { type: 'object', properties: { provider } },
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        secret: { type: 'string', minLength: 1 },
        redirectUris: { type: ['array', 'null'], items: { type: 'string' } },
      },
    },
  } as const;
  const updateClient = async (req: {
    params: { provider: ProviderKey };
    body: { secret?: string; redirectUris?: string[] | null };
  }): Promise<Record<string, unknown>> => {
    const client = sb.clients.forProvider(req.params.provider);
    if (req.body.secret !== undefined) client.secret = req.body.secret;
    if (req.body.redirectUris !== undefined) client.redirectUris = req.body.redirectUris;
    return { provider: client.provider, clientId: client.clientId, redirectUris: client.redirectUris };
  };
  type ClientRoute = {
    Params: { provider: ProviderKey };
    Body: { secret?: string; redirectUris?: string[] | null };
  };
  app.post<ClientRoute>('/clients/:provider', { schema: clientSchema }, updateClient);
  app.post<ClientRoute>(
    '/clients/:provider/secret',
    { schema: { ...clientSchema, body: { ...clientSchema.body, required: ['secret'] } } },
    updateClient,
  );

  app.post<{ Body: { provider: ProviderKey; decision: ConsentDecision; email?: string } }>(
    '/consent',
    {
      schema: {
        body: {
          type: 'object',
          required: ['provider', 'decision'],
          additionalProperties: false,
          properties: {
            provider,
            decision: { type: 'string', enum: ['approve', 'deny'] },
            email: { type: 'string' },
          },
        },
      },
    },
    async (req) => {
      sb.consent.set(req.body.provider, req.body.decision, req.body.email);
      return { provider: req.body.provider, ...sb.consent.get(req.body.provider) };
    },
  );

  app.post('/reset', async () => {
    sb.reset();
    return { reset: true };
  });
}
