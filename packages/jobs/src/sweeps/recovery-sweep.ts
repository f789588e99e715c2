// Connections in `error` are not left there forever: a bad client secret (invalid_client) or a
// day of transient failures put them there, and once an operator fixes the cause they should
// come back without anyone touching each one. Every interval, each connection that has been in
// `error` for at least that long is tried once more. A still-bad secret costs only a few requests
// before the lane pauses again (refresh-connection.ts), so this never hammers a provider.
import type { ConnectionRepository } from '@conduit/db';
import type { Queues } from '../queues.ts';

export async function runRecoverySweep(
  deps: { connections: ConnectionRepository; queues: Queues },
  settings: { minAgeMs: number; batchSize: number },
  now: Date = new Date(),
): Promise<{ enqueued: number }> {
  const changedBefore = new Date(now.getTime() - settings.minAgeMs);
  let after: string | undefined;
  let enqueued = 0;
  for (;;) {
    const rows = await deps.connections.listInError({ changedBefore, after, limit: settings.batchSize });
    if (rows.length === 0) break;
    await deps.queues.enqueueRefreshBulk(
      rows.map((r) => ({ provider: r.provider, connectionId: r.id, reason: 'recovery' as const })),
    );
    enqueued += rows.length;
    after = rows[rows.length - 1]!.id;
    if (rows.length < settings.batchSize) break;
  }
  return { enqueued };
}
