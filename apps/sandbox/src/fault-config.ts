// Start-up fault configuration from text (CONDUIT_SANDBOX_FAULTS), checked with a clear error.
import { isProviderKey } from '@conduit/core';
import { FAULT_ENDPOINTS, type FaultConfig } from './faults.ts';

const RULE_FIELDS = [
  'rate429',
  'retryAfterSeconds',
  'rateLimitStatus',
  'rate5xx',
  'status5xx',
  'latencyMs',
  'hangRate',
  'dropRate',
];
const EXAMPLE = '{"discord":{"token":{"rate429":0.1,"retryAfterSeconds":5}},"*":{"api":{"latencyMs":50}}}';

export function parseFaultConfig(text: string, source = 'CONDUIT_SANDBOX_FAULTS'): FaultConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON (${(error as Error).message}); expected e.g. ${EXAMPLE}`);
  }
  if (!isObject(parsed))
    throw new Error(`${source}: expected an object keyed by provider or "*", e.g. ${EXAMPLE}`);
  for (const [provider, endpoints] of Object.entries(parsed)) {
    if (provider !== '*' && !isProviderKey(provider)) {
      throw new Error(`${source}: unknown provider "${provider}"; expected a provider key or "*"`);
    }
    if (!isObject(endpoints)) throw new Error(`${source}.${provider}: expected an object keyed by endpoint`);
    for (const [endpoint, rule] of Object.entries(endpoints)) {
      if (endpoint !== '*' && !(FAULT_ENDPOINTS as readonly string[]).includes(endpoint)) {
        throw new Error(
          `${source}.${provider}: unknown endpoint "${endpoint}"; expected ${FAULT_ENDPOINTS.join(', ')} or "*"`,
        );
      }
      if (!isObject(rule)) throw new Error(`${source}.${provider}.${endpoint}: expected a fault rule object`);
      for (const [field, value] of Object.entries(rule)) {
        if (!RULE_FIELDS.includes(field)) {
          throw new Error(
            `${source}.${provider}.${endpoint}: unknown field "${field}"; expected ${RULE_FIELDS.join(', ')}`,
          );
        }
        if (typeof value !== 'number' || value < 0) {
          throw new Error(
            `${source}.${provider}.${endpoint}.${field}: expected a non-negative number, got ${JSON.stringify(value)}`,
          );
        }
      }
    }
  }
  return parsed as FaultConfig;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
