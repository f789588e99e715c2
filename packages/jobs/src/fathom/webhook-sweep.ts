// The webhook sweep: usable Fathom connections whose webhook was never registered (a failure at
// connect), or has not been seen at Fathom for an interval, get it looked up and, when missing or
// deleted there, registered again. Idempotent: the registrar claims each row and removes webhooks
// at the connection's URL it holds no secret for before creating one.
import type { ConnectionWebhookRepository } from '@conduit/db';
import type { FathomWebhookRegistrar, RegistrationResult } from './webhook-registrar.ts';

export interface WebhookSweepDeps {
  webhooks: ConnectionWebhookRepository;
  registrar: Pick<FathomWebhookRegistrar, 'ensure'>;
}

export interface WebhookSweepOptions {
  /** a webhook seen at Fathom within this long is left alone */
  intervalMs: number;
  batchSize: number;
  now?: Date;
}

export type WebhookSweepReport = Record<RegistrationResult['kind'], number> & { looked: number };

export async function runWebhookSweep(
  deps: WebhookSweepDeps,
  opts: WebhookSweepOptions,
): Promise<WebhookSweepReport> {
  const now = opts.now ?? new Date();
  const report: WebhookSweepReport = { looked: 0, registered: 0, present: 0, busy: 0, failed: 0 };
  const due = await deps.webhooks.listForSweep({
    provider: 'fathom',
    checkedBefore: new Date(now.getTime() - opts.intervalMs),
    limit: opts.batchSize,
  });
  for (const { connectionId } of due) {
    report.looked += 1;
    const result = await deps.registrar.ensure(connectionId);
    report[result.kind] += 1;
  }
  return report;
}
