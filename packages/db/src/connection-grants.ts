// A fresh OAuth grant becomes a connection: created, or — for the same owner and provider —
// the existing connection gets the new tokens and goes back to `connected` (cause `reconnected`,
// same id, event written). And the user's way out: disconnect, which wipes the tokens.
import { assertTransition, providerSpec, type ProviderKey } from '@conduit/core';
import { Prisma, type PrismaClient } from './generated/client.ts';
import { notificationPayload, SAFE_CONNECTION_FIELDS, type SafeConnection } from './connections.ts';
import { GrantRevocationRepository } from './grant-revocations.ts';
import { changeStatus, StaleVersionError } from './status-change.ts';

export interface GrantInput {
  ownerId: string;
  teamId: string | null;
  provider: ProviderKey;
  externalAccountId: string | null;
  externalEmail: string | null;
  accessTokenEnc: string;
  refreshTokenEnc: string | null;
  tokenExpiresAt: Date | null;
  /** the access-token lifetime issued (`expires_in`), when the provider said */
  tokenLifetimeSeconds?: number | null;
  refreshTokenExpiresAt: Date | null;
  scopes: string[];
}

export interface StoredGrant {
  connectionId: string;
  created: boolean;
  /** the status before; null for a new connection */
  previousStatus: SafeConnection['status'] | null;
}

const ATTEMPTS = 3;

/** Creates the connection or reconnects the owner's existing one for this provider. */
export async function storeGrant(db: PrismaClient, input: GrantInput, now: Date): Promise<StoredGrant> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction((tx) => storeOnce(tx, input, now));
    } catch (err) {
      // A concurrent callback for the same owner created it, or a refresh wrote in between: read again.
      const retryable = err instanceof StaleVersionError || isUniqueViolation(err);
      if (!retryable || attempt >= ATTEMPTS) throw err;
    }
  }
}

async function storeOnce(tx: Prisma.TransactionClient, input: GrantInput, now: Date): Promise<StoredGrant> {
  const tokens = {
    accessTokenEnc: input.accessTokenEnc,
    refreshTokenEnc: input.refreshTokenEnc,
    tokenExpiresAt: input.tokenExpiresAt,
    tokenLifetimeSeconds: input.tokenLifetimeSeconds ?? null,
    refreshTokenExpiresAt: input.refreshTokenExpiresAt,
    scopes: input.scopes,
    lastRefreshAt: now,
    lastRefreshError: null,
    failureCount: 0,
    failingSince: null,
    refreshNotBefore: null,
  };
  const existing = await tx.connection.findUnique({
    where: { ownerId_provider: { ownerId: input.ownerId, provider: input.provider } },
  });
  if (!existing) {
    const identity = {
      teamId: input.teamId,
      externalAccountId: input.externalAccountId,
      externalEmail: input.externalEmail,
    };
    const { event } = assertTransition(null, 'connected', { kind: 'reconnected' }, now);
    const reason = event?.reason ?? 'connected through an OAuth grant';
    const created = await tx.connection.create({
      data: {
        ownerId: input.ownerId,
        provider: input.provider,
        ...identity,
        ...tokens,
        status: 'connected',
        statusReason: reason,
        statusChangedAt: now,
      },
      select: { id: true },
    });
    await tx.connectionEvent.create({
      data: { connectionId: created.id, from: null, to: 'connected', reason, at: now },
    });
    return { connectionId: created.id, created: true, previousStatus: null };
  }
  // By account id where the provider names one, else (Fathom) by email.
  const differs = (a: string | null, b: string | null) => a !== null && b !== null && a !== b;
  const accountChanged =
    differs(existing.externalAccountId, input.externalAccountId) ||
    (existing.externalAccountId === null &&
      input.externalAccountId === null &&
      differs(existing.externalEmail, input.externalEmail));
  // Another account's data has its own cursors: the next sync starts from the beginning.
  if (accountChanged) await tx.syncState.deleteMany({ where: { connectionId: existing.id } });
  // A revocation of the old grant still pending could take the new one along (Google, GitHub
  // revoke per user and app): the user's new consent wins.
  await GrantRevocationRepository.supersede(tx, existing.id, now);
  await changeStatus(tx, {
    connectionId: existing.id,
    provider: existing.provider,
    from: existing.status,
    to: 'connected',
    cause: { kind: 'reconnected' },
    at: now,
    expectedVersion: existing.version,
    // What the new grant does not say (no team given, an account not identifiable yet) stays as known.
    data: {
      ...tokens,
      teamId: input.teamId ?? existing.teamId,
      externalAccountId: input.externalAccountId ?? existing.externalAccountId,
      externalEmail: input.externalEmail ?? existing.externalEmail,
      // data synced from now on is the new grant's, kept until its own disconnect and retention
      purgedAt: null,
    },
    ...(existing.status !== 'connected' && {
      notify: [
        {
          type: 'connection.recovered',
          payload: notificationPayload(existing, { from: existing.status, reconnected: true }),
        },
      ],
    }),
  });
  return { connectionId: existing.id, created: false, previousStatus: existing.status };
}

export interface Disconnected {
  connection: SafeConnection;
  /** its status before; `disconnected` when it already was (then nothing else happened) */
  previousStatus: SafeConnection['status'];
  /** the revocation queued for the grant (GrantRevocation), where the provider offers one */
  revocationId: string | null;
}

/**
 * The user disconnects: tokens are wiped and the status becomes `disconnected` with its event.
 * Where the catalogue says the provider can revoke the grant, the tokens' ciphertext moves to the
 * revocation outbox in the same transaction, so the grant is revoked (and retried) after the
 * answer without a token ever leaving the vault. Idempotent; null when there is no such
 * connection. Retries when a refresh wrote meanwhile (whose own compare-and-set then loses, so no
 * token survives the wipe).
 */
export async function disconnectConnection(
  db: PrismaClient,
  id: string,
  now: Date,
): Promise<Disconnected | null> {
  for (let attempt = 1; ; attempt++) {
    const conn = await db.connection.findUnique({ where: { id } });
    if (!conn) return null;
    try {
      const revocationId = await db.$transaction(async (tx) => {
        await changeStatus(tx, {
          connectionId: conn.id,
          provider: conn.provider,
          from: conn.status,
          to: 'disconnected',
          cause: { kind: 'disconnected_by_user' },
          at: now,
          expectedVersion: conn.version,
          data: {
            accessTokenEnc: null,
            refreshTokenEnc: null,
            tokenExpiresAt: null,
            refreshTokenExpiresAt: null,
            refreshNotBefore: null,
          },
        });
        const revocable =
          providerSpec(conn.provider).revocation.kind !== 'none' &&
          (conn.accessTokenEnc !== null || conn.refreshTokenEnc !== null);
        return revocable
          ? GrantRevocationRepository.enqueue(tx, {
              connectionId: conn.id,
              provider: conn.provider,
              accessTokenEnc: conn.accessTokenEnc,
              refreshTokenEnc: conn.refreshTokenEnc,
              at: now,
            })
          : null;
      });
      const connection = await db.connection.findUnique({ where: { id }, select: SAFE_CONNECTION_FIELDS });
      if (!connection) return null;
      return { connection, previousStatus: conn.status, revocationId };
    } catch (err) {
      if (!(err instanceof StaleVersionError) || attempt >= ATTEMPTS) throw err;
    }
  }
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
