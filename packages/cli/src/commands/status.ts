// `conduit status`: per provider, connections by status, access tokens expired or about to,
// and connected ones without a refresh token — the diagnostic query operators used to paste.
import { CONNECTION_STATUSES, PROVIDER_KEYS, type ProviderKey, providerSpec } from '@conduit/core';
import { MaintenanceRepository, type ProviderStatusRow } from '@conduit/db';
import type { AppContext } from '@conduit/runtime';
import { EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { renderTable } from '../table.ts';

export interface ProviderStatus extends Omit<ProviderStatusRow, 'connectedWithoutRefreshToken'> {
  /** null for providers whose tokens never refresh (a missing refresh token is normal there) */
  connectedWithoutRefreshToken: number | null;
}

export interface StatusReport {
  generatedAt: string;
  providers: ProviderStatus[];
}

export async function statusReport(ctx: Pick<AppContext, 'db'>, now = new Date()): Promise<StatusReport> {
  const rows = await new MaintenanceRepository(ctx.db).statusByProvider(now);
  const byProvider = new Map(rows.map((r) => [r.provider, r]));
  return {
    generatedAt: now.toISOString(),
    providers: PROVIDER_KEYS.map((provider) => {
      const row = byProvider.get(provider) ?? emptyRow(provider);
      return {
        ...row,
        connectedWithoutRefreshToken:
          providerSpec(provider).refresh.kind === 'none' ? null : row.connectedWithoutRefreshToken,
      };
    }),
  };
}

export async function statusCommand(
  ctx: Pick<AppContext, 'db'>,
  out: Output,
  opts: { json?: boolean },
): Promise<number> {
  const report = await statusReport(ctx);
  if (opts.json) {
    out.json(report);
    return EXIT.ok;
  }
  const rows = report.providers.map((p) => [
    p.provider,
    p.total,
    ...CONNECTION_STATUSES.map((s) => p.byStatus[s]),
    p.expired,
    p.expiringWithin1h,
    p.expiringWithin24h,
    p.connectedWithoutRefreshToken,
  ]);
  out.line(
    renderTable(
      ['provider', 'total', ...CONNECTION_STATUSES, 'expired', '≤1h', '≤24h', 'no refresh token'],
      rows,
    ),
  );
  out.line();
  out.line(
    `As of ${report.generatedAt}. "expired", "≤1h" and "≤24h" count access tokens of connected and ` +
      'token_expired connections; "no refresh token" counts connected ones that cannot refresh (— where tokens never refresh).',
  );
  return EXIT.ok;
}

function emptyRow(provider: ProviderKey): ProviderStatusRow {
  return {
    provider,
    total: 0,
    byStatus: { connected: 0, token_expired: 0, needs_reauth: 0, error: 0, disconnected: 0 },
    expired: 0,
    expiringWithin1h: 0,
    expiringWithin24h: 0,
    connectedWithoutRefreshToken: 0,
  };
}
