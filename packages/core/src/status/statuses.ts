/**
 * Connection statuses. The names and order match `enum ConnectionStatus` in
 * prisma/schema.prisma exactly, so a value read from the database is a value here.
 */
export const CONNECTION_STATUSES = [
  'connected',
  'token_expired',
  'needs_reauth',
  'error',
  'disconnected',
] as const;

export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

export function isConnectionStatus(value: unknown): value is ConnectionStatus {
  return typeof value === 'string' && (CONNECTION_STATUSES as readonly string[]).includes(value);
}
