// Seed example 4, rewritten: the report a scheduled job mails every morning — a team's
// connections by status, which tokens lapse soon, who must reconnect and what went wrong last.
// Conduit refreshes tokens itself; this only reads the safe view (connections:read).
import type { ConduitClient, Connection } from '@conduit/client';

export interface RefreshReport {
  generatedAt: string;
  total: number;
  byStatus: Record<string, number>;
  expiringWithinHour: string[];
  mustReconnect: Array<{ ownerId: string; provider: string; reason: string | null }>;
  lastErrors: Array<{ connectionId: string; provider: string; error: string }>;
}

export async function refreshReport(
  conduit: ConduitClient,
  teamId: string,
  now: Date = new Date(),
): Promise<RefreshReport> {
  const connections = await conduit.listConnections({ teamId });
  const soon = now.getTime() + 3_600_000;
  const byStatus: Record<string, number> = {};
  for (const c of connections) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
  const live = (c: Connection) => c.status === 'connected' || c.status === 'token_expired';
  return {
    generatedAt: now.toISOString(),
    total: connections.length,
    byStatus,
    expiringWithinHour: connections
      .filter((c) => live(c) && c.tokenExpiresAt !== null && Date.parse(c.tokenExpiresAt) < soon)
      .map((c) => c.id),
    mustReconnect: connections
      .filter((c) => c.status === 'needs_reauth' || c.status === 'disconnected')
      .map((c) => ({ ownerId: c.ownerId, provider: c.provider, reason: c.statusReason })),
    lastErrors: connections
      .filter((c) => c.lastRefreshError !== null)
      .map((c) => ({ connectionId: c.id, provider: c.provider, error: c.lastRefreshError! })),
  };
}

/** The report as the lines of a plain-text mail. */
export function renderReport(r: RefreshReport): string {
  const lines = [
    `Connections: ${r.total} (${Object.entries(r.byStatus)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')})`,
    `Tokens lapsing within the hour: ${r.expiringWithinHour.length}`,
    `Must reconnect: ${r.mustReconnect.length}`,
    ...r.mustReconnect.map((m) => `  - ${m.provider} of ${m.ownerId}: ${m.reason ?? 'no reason recorded'}`),
  ];
  return lines.join('\n');
}
