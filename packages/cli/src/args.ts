// Checks of argument and option values; a bad one is a usage error (exit code 2) that says
// what was given and what is expected.
import { CONNECTION_STATUSES, PROVIDER_KEYS, type ConnectionStatus, type ProviderKey } from '@conduit/core';
import { usageError } from './errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseCount(
  value: string | undefined,
  name: string,
  bounds: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    throw usageError(`${name} must be a whole number from ${bounds.min} to ${bounds.max}, not "${value}".`);
  }
  return n;
}

export function parseStatus(value: string | undefined): ConnectionStatus | undefined {
  if (value === undefined) return undefined;
  if (!(CONNECTION_STATUSES as readonly string[]).includes(value)) {
    throw usageError(`--status must be one of ${CONNECTION_STATUSES.join(', ')}, not "${value}".`);
  }
  return value as ConnectionStatus;
}

export function parseProvider(value: string | undefined): ProviderKey | undefined {
  if (value === undefined) return undefined;
  if (!(PROVIDER_KEYS as readonly string[]).includes(value)) {
    throw usageError(`--provider must be one of ${PROVIDER_KEYS.join(', ')}, not "${value}".`);
  }
  return value as ProviderKey;
}

export function parseConnectionId(value: string): string {
  if (!UUID.test(value)) {
    throw usageError(
      `a connection id is a UUID such as 3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a15, not "${value}".`,
    );
  }
  return value.toLowerCase();
}
