// Who was told to wait, and until when; and the per-account budgets some providers document
// (Fathom: 60 calls / 60 s). Both O(1) per request.
import type { ProviderKey } from '@conduit/core';

export interface Wait {
  toldAt: number;
  until: number;
}

export class WaitTracker {
  private readonly waits = new Map<string, Wait>();

  /**
   * @param graceMs requests arriving this soon after the 429 was sent are not counted early:
   *   they were most likely sent before the client could have read it (other workers, pipelining).
   */
  constructor(private readonly graceMs: number) {}

  told(key: string, now: number, seconds: number): void {
    const until = now + seconds * 1000;
    const known = this.waits.get(key);
    if (!known || known.until < until) this.waits.set(key, { toldAt: now, until });
  }

  /** The wait this request ignored, if it came back early. */
  early(key: string, now: number): Wait | undefined {
    const wait = this.waits.get(key);
    if (!wait) return undefined;
    if (now >= wait.until) {
      this.waits.delete(key);
      return undefined;
    }
    return now >= wait.toldAt + this.graceMs ? wait : undefined;
  }

  clear(): void {
    this.waits.clear();
  }
}

export function clientKey(provider: ProviderKey, clientId: string | undefined): string {
  return `${provider}|client|${clientId ?? '-'}`;
}

export function accountKey(provider: ProviderKey, accountId: string): string {
  return `${provider}|account|${accountId}`;
}

export interface Budget {
  requests: number;
  windowSeconds: number;
}

export interface BudgetState {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** Fixed windows per account, started by the account's first call. */
export class AccountBudgets {
  private readonly windows = new Map<string, { start: number; count: number }>();

  take(key: string, budget: Budget, now: number): BudgetState {
    let window = this.windows.get(key);
    if (!window || now >= window.start + budget.windowSeconds * 1000) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    const resetSeconds = Math.max(1, Math.ceil((window.start + budget.windowSeconds * 1000 - now) / 1000));
    if (window.count >= budget.requests) {
      return { allowed: false, limit: budget.requests, remaining: 0, resetSeconds };
    }
    window.count += 1;
    return { allowed: true, limit: budget.requests, remaining: budget.requests - window.count, resetSeconds };
  }

  clear(): void {
    this.windows.clear();
  }
}
