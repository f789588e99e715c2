// `conduit webhooks list`: the newest stored webhook deliveries, with the ids `webhooks replay`
// takes. Filters by status and provider; the payload is not shown (it may carry user data).
import type { ProviderKey } from '@conduit/core';
import type { AppContext } from '@conduit/runtime';
import { EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { relativeTime } from '../relative-time.ts';
import { renderTable } from '../table.ts';
import type { WEBHOOK_STATUSES } from '../limits.ts';

export interface WebhooksListOptions {
  status?: string | undefined;
  provider?: ProviderKey | undefined;
  limit: number;
  json?: boolean | undefined;
}

export async function webhooksListCommand(
  ctx: Pick<AppContext, 'db'>,
  out: Output,
  opts: WebhooksListOptions,
): Promise<number> {
  const rows = await ctx.db.webhookDelivery.findMany({
    where: {
      ...(opts.provider && { provider: opts.provider }),
      ...(opts.status && { status: opts.status as (typeof WEBHOOK_STATUSES)[number] }),
    },
    orderBy: [{ receivedAt: 'desc' }, { id: 'asc' }],
    take: opts.limit,
    select: {
      id: true,
      provider: true,
      deliveryId: true,
      receivedAt: true,
      status: true,
      attempts: true,
      connectionId: true,
      error: true,
    },
  });
  if (opts.json) {
    out.json(rows);
    return EXIT.ok;
  }
  if (rows.length === 0) {
    out.line('No webhook deliveries match.');
    return EXIT.ok;
  }
  const now = new Date();
  out.line(
    renderTable(
      ['id', 'provider', 'webhook-id', 'received', 'status', 'attempts', 'connection', 'error'],
      rows.map((d) => [
        d.id,
        d.provider,
        d.deliveryId,
        relativeTime(d.receivedAt, now),
        d.status,
        d.attempts,
        d.connectionId,
        d.error,
      ]),
      { width: out.width, shrink: [7, 2] },
    ),
  );
  if (rows.length === opts.limit) out.note(`Showing the newest ${opts.limit}; raise --limit to see more.`);
  return EXIT.ok;
}
