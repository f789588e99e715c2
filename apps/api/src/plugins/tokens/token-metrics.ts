// conduit_token_reads_total: every token read (the routes and the proxy), by provider and result.
import { Counter, type Registry } from 'prom-client';

export type TokenReadResult =
  | 'ok'
  | 'forced'
  | 'forced_shared'
  | 'not_found'
  | 'not_connected'
  | 'needs_reauth'
  | 'connection_error'
  | 'unavailable';

export type TokenReadCounter = Counter<'provider' | 'result' | 'via'>;

export function createTokenReadCounter(registry: Registry): TokenReadCounter {
  return new Counter({
    name: 'conduit_token_reads_total',
    help: 'Access tokens handed out (or refused) to applications, by provider, result (ok, forced, forced_shared, not_found, not_connected, needs_reauth, connection_error, unavailable) and via (api, proxy).',
    labelNames: ['provider', 'result', 'via'] as const,
    registers: [registry],
  });
}
