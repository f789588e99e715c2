// The one function through which a connection's status changes (STYLE: "statuses change through
// one function that validates the transition and writes the event"). It runs inside the caller's
// transaction, so the status, its event and any notification land together or not at all.
import { transition, type ConnectionStatus, type TransitionCause } from '@conduit/core';
import type { Prisma } from './generated/client.ts';

export interface OutboxEntry {
  type: NotificationType;
  payload: Record<string, unknown>;
  /** the same fact is notified once (e.g. one expiry warning per connection and lapse date) */
  dedupeKey?: string;
}

export type NotificationType =
  | 'connection.needs_reauth'
  | 'connection.recovered'
  | 'connection.refresh_expiring'
  | 'connection.error'
  | 'provider.credentials_invalid'
  /** data events, written by the meeting repositories when CONDUIT_NOTIFY_URL is set */
  | 'meeting.synced'
  | 'transcript.stored';

export class StaleVersionError extends Error {
  constructor(
    readonly connectionId: string,
    readonly expectedVersion: number,
  ) {
    super(
      `connection ${connectionId} changed since it was read (expected version ${expectedVersion}); ` +
        'another worker wrote first, so this write was dropped',
    );
    this.name = 'StaleVersionError';
  }
}

export interface StatusChangeInput {
  connectionId: string;
  provider: Prisma.ConnectionCreateInput['provider'];
  from: ConnectionStatus | null;
  to: ConnectionStatus;
  cause: TransitionCause;
  at: Date;
  /** compare-and-set guard: the version the caller read */
  expectedVersion: number;
  /** other columns to write in the same update */
  data?: Prisma.ConnectionUpdateManyMutationInput;
  notify?: OutboxEntry[];
}

/**
 * Validates from → to against the status machine, then writes status, event and notifications
 * with a compare-and-set on `version`. Throws `InvalidTransitionError`-like errors for a
 * forbidden transition and `StaleVersionError` when another writer got there first.
 */
export async function changeStatus(tx: Prisma.TransactionClient, input: StatusChangeInput): Promise<void> {
  const result = transition(input.from, input.to, input.cause, input.at);
  if (!result.ok) throw new Error(result.error.message);
  const statusColumns: Prisma.ConnectionUpdateManyMutationInput = result.changed
    ? { status: input.to, statusReason: result.event.reason, statusChangedAt: input.at }
    : {};
  const updated = await tx.connection.updateMany({
    where: { id: input.connectionId, version: input.expectedVersion },
    data: { ...input.data, ...statusColumns, version: { increment: 1 } },
  });
  if (updated.count !== 1) throw new StaleVersionError(input.connectionId, input.expectedVersion);
  if (result.changed) {
    await tx.connectionEvent.create({
      data: {
        connectionId: input.connectionId,
        from: result.event.from,
        to: result.event.to,
        reason: result.event.reason,
        at: input.at,
      },
    });
  }
  for (const n of input.notify ?? []) {
    await tx.notification.createMany({
      data: [
        {
          type: n.type,
          connectionId: input.connectionId,
          provider: input.provider,
          payload: n.payload as Prisma.InputJsonValue,
          dedupeKey: n.dedupeKey ?? null,
        },
      ],
      skipDuplicates: true,
    });
  }
}
