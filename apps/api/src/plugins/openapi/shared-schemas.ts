// JSON Schemas the /v1 routes share: they validate and serialise, and @fastify/swagger turns them
// into the OpenAPI document, so the document is the code's own description of itself.
import { PROVIDER_KEYS } from '@conduit/core';

export const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is stable and meant to be switched on.',
  required: ['type', 'title', 'status'],
  additionalProperties: true,
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string' },
  },
} as const;

/** Problem answers a route may give, for its `response` schema. */
export function problems(...statuses: number[]): Record<number, typeof problemSchema> {
  return Object.fromEntries(statuses.map((s) => [s, problemSchema]));
}

/** The declared providers: the catalogue's live list, so a schema compiled at start sees every declaration. */
export const providerSchema = { type: 'string', enum: PROVIDER_KEYS } as const;

const dateTime = { type: 'string', format: 'date-time' } as const;
const nullable = <T extends { type: string }>(s: T) => ({ ...s, type: [s.type, 'null'] }) as const;

/** The safe view of a connection: never a token. */
export const safeConnectionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    ownerId: { type: 'string' },
    teamId: nullable({ type: 'string' }),
    provider: providerSchema,
    externalAccountId: nullable({ type: 'string' }),
    externalEmail: nullable({ type: 'string' }),
    status: { type: 'string', enum: ['connected', 'token_expired', 'needs_reauth', 'error', 'disconnected'] },
    statusReason: nullable({ type: 'string' }),
    statusChangedAt: dateTime,
    tokenExpiresAt: nullable(dateTime),
    refreshTokenExpiresAt: nullable(dateTime),
    scopes: { type: 'array', items: { type: 'string' } },
    lastRefreshAt: nullable(dateTime),
    lastRefreshError: nullable({ type: 'string' }),
    lastSyncAt: nullable(dateTime),
    lastSyncError: nullable({ type: 'string' }),
    failureCount: { type: 'integer' },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

export const uuidParam = { type: 'string', format: 'uuid' } as const;

export const API_KEY_SECURITY = [{ apiKey: [] }];
