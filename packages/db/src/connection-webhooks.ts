// The webhook Conduit registered at the provider for each connection: its opaque routing id (the
// destination URL's last segment), the provider's id for it and its secret (vault ciphertext).
// A registration claims the row first, so the connect callback and the sweep never register two.
import { randomBytes } from 'node:crypto';
import type { ConnectionStatus, ProviderKey } from '@conduit/core';
import type { ConnectionWebhook, PrismaClient } from './generated/client.ts';

export type ConnectionWebhookRow = ConnectionWebhook;

/** What the webhook route needs to verify one delivery, found by routing id. */
export interface WebhookRoute {
  connectionId: string;
  provider: ProviderKey;
  secretEnc: string | null;
  status: ConnectionStatus;
}

/** 144 random bits, URL-safe: unguessable, and says nothing about the connection. */
export function newRoutingId(): string {
  return randomBytes(18).toString('base64url');
}

export class ConnectionWebhookRepository {
  constructor(private readonly db: PrismaClient) {}

  /** The connection's row, created (with a fresh routing id) when it has none. */
  async ensure(connectionId: string, provider: ProviderKey): Promise<ConnectionWebhookRow> {
    return this.db.connectionWebhook.upsert({
      where: { connectionId },
      create: { connectionId, provider, routingId: newRoutingId() },
      update: {},
    });
  }

  find(connectionId: string): Promise<ConnectionWebhookRow | null> {
    return this.db.connectionWebhook.findUnique({ where: { connectionId } });
  }

  /** Takes the registration claim until `until`; null while someone else holds it. */
  async claim(connectionId: string, now: Date, until: Date): Promise<ConnectionWebhookRow | null> {
    const rows = await this.db.$queryRaw<ConnectionWebhookRow[]>`
      UPDATE "ConnectionWebhook" SET "claimUntil" = ${until}, "updatedAt" = ${now}
      WHERE "connectionId" = ${connectionId}::uuid AND ("claimUntil" IS NULL OR "claimUntil" < ${now})
      RETURNING *`;
    return rows[0] ?? null;
  }

  /** A webhook registered at the provider: its id and secret replace any earlier one; claim ends. */
  async registered(connectionId: string, hook: { externalId: string; secretEnc: string }, now: Date) {
    await this.db.connectionWebhook.update({
      where: { connectionId },
      data: {
        externalId: hook.externalId,
        secretEnc: hook.secretEnc,
        registeredAt: now,
        checkedAt: now,
        lastError: null,
        claimUntil: null,
      },
    });
  }

  /** The webhook is gone at the provider (or was never made): deliveries are refused until the next one. */
  async forget(connectionId: string, now: Date, lastError: string | null = null): Promise<void> {
    await this.db.connectionWebhook.updateMany({
      where: { connectionId },
      data: { externalId: null, secretEnc: null, checkedAt: now, lastError },
    });
  }

  /** Ends a claim; records why the registration did not happen, if it did not. */
  async release(connectionId: string, now: Date, outcome: { lastError: string | null; checked: boolean }) {
    await this.db.connectionWebhook.updateMany({
      where: { connectionId },
      data: {
        claimUntil: null,
        lastError: outcome.lastError,
        ...(outcome.checked && { checkedAt: now }),
      },
    });
  }

  /** One delivery's route: the connection behind an opaque routing id, and its current secret. */
  async route(routingId: string): Promise<WebhookRoute | null> {
    const rows = await this.db.$queryRaw<WebhookRoute[]>`
      SELECT w."connectionId", w.provider, w."secretEnc", c.status
      FROM "ConnectionWebhook" w JOIN "Connection" c ON c.id = w."connectionId"
      WHERE w."routingId" = ${routingId}`;
    return rows[0] ?? null;
  }

  /**
   * Usable connections of the provider whose webhook needs a look: none registered yet (no row,
   * or no provider id), or not seen at the provider since `checkedBefore`. Never-checked first.
   */
  listForSweep(args: {
    provider: ProviderKey;
    checkedBefore: Date;
    limit: number;
  }): Promise<Array<{ connectionId: string; externalId: string | null }>> {
    return this.db.$queryRaw`
      SELECT c.id AS "connectionId", w."externalId"
      FROM "Connection" c LEFT JOIN "ConnectionWebhook" w ON w."connectionId" = c.id
      WHERE c.provider = ${args.provider}::text
        AND c.status IN ('connected', 'token_expired')
        AND (w."connectionId" IS NULL OR w."externalId" IS NULL OR w."checkedAt" IS NULL
             OR w."checkedAt" < ${args.checkedBefore})
      ORDER BY w."checkedAt" NULLS FIRST, c.id
      LIMIT ${args.limit}`;
  }
}
