// Everything one sandbox knows, and the few operations that touch several parts at once.
import { type ProviderKey, providerSpec } from '@conduit/core';
import { FathomStore } from './fathom/store.ts';
import { WebhookDeliverer } from './fathom/webhooks.ts';
import { Faults, type FaultHooks } from './faults.ts';
import { AccountDirectory } from './grants/accounts.ts';
import { GrantStore, type Grant, type RevokeReason } from './grants/store.ts';
import { Holds } from './holds.ts';
import type { WireAnswer } from './http.ts';
import { Lifetimes } from './lifetimes.ts';
import { ClientRegistry } from './oauth/clients.ts';
import { CodeStore, ConsentSettings } from './oauth/codes.ts';
import type { ResolvedOptions } from './options.ts';
import { seededRng, type Rng } from './random.ts';
import { rateLimitAnswer, type RateLimitInput, type Surface } from './rate-limit-answers.ts';
import { AccountBudgets, WaitTracker, type Budget } from './rate-limit.ts';
import { AnomalyLog, type AnomalyExample } from './report.ts';

export class SandboxState {
  readonly startedAt = Date.now();
  readonly clients = new ClientRegistry();
  readonly accounts: AccountDirectory;
  readonly grants: GrantStore;
  readonly codes = new CodeStore();
  readonly consent = new ConsentSettings();
  readonly faults: Faults;
  readonly holds = new Holds();
  readonly waits: WaitTracker;
  readonly budgets = new AccountBudgets();
  readonly log = new AnomalyLog();
  readonly fathom: FathomStore;
  readonly webhooks: WebhookDeliverer;
  private rotationRng: Rng;

  constructor(readonly options: ResolvedOptions) {
    this.accounts = new AccountDirectory(options.seed);
    this.grants = new GrantStore(
      new Lifetimes(options.accessTokenTtlSeconds, options.refreshTokenTtlSeconds),
    );
    this.faults = new Faults(options.seed, options.faults);
    this.waits = new WaitTracker(options.earlyRequestGraceMs);
    this.fathom = new FathomStore(options.seed);
    this.webhooks = new WebhookDeliverer(
      options.webhookRetryDelaysMs,
      options.webhookTimeoutMs,
      options.logger,
    );
    this.rotationRng = seededRng(options.seed, 'rotation');
  }

  get seed(): number {
    return this.options.seed;
  }

  /** Counts the request as early when `key` was told to wait and came back before the wait ended. */
  noteEarly(
    provider: ProviderKey,
    key: string,
    now: number,
    who: () => Omit<AnomalyExample, 'at' | 'detail'>,
  ): void {
    const wait = this.waits.early(key, now);
    if (!wait) return;
    this.log.count(provider, 'earlyRequests', now, () => ({
      ...who(),
      detail: `came back ${((now - wait.toldAt) / 1000).toFixed(3)} s after a 429 that said to wait ${((wait.until - wait.toldAt) / 1000).toFixed(3)} s`,
    }));
  }

  /** The provider's rate-limit answer; the wait it announces is remembered for `key`. */
  rateLimited(provider: ProviderKey, surface: Surface, key: string, input: RateLimitInput): WireAnswer {
    this.waits.told(key, input.now, input.seconds);
    this.log.traffic(provider).rateLimited += 1;
    return rateLimitAnswer(provider, surface, input);
  }

  /** What faults of this provider and surface do: the provider's 429, counted injections. */
  faultHooks(provider: ProviderKey, surface: Surface, waitKey: string): FaultHooks {
    return {
      rateLimited: (seconds, status) =>
        this.rateLimited(provider, surface, waitKey, { seconds, status, now: Date.now() }),
      injected: (kind, delayed) => {
        const traffic = this.log.traffic(provider);
        if (delayed) traffic.delayed += 1;
        if (kind === 'drop') traffic.faultDrops += 1;
        else if (kind === 'hang') traffic.faultHangs += 1;
        else if (kind === 'server_error') traffic.fault5xx += 1;
      },
    };
  }

  /** The documented per-account budget (catalogue), unless the options override it. */
  budget(provider: ProviderKey): Budget | undefined {
    return this.options.accountBudgets[provider] ?? providerSpec(provider).rateLimit.accountBudget;
  }

  /** Whether this refresh rotates the refresh token, by the catalogue's rule. */
  rotates(provider: ProviderKey): boolean {
    const refresh = providerSpec(provider).refresh;
    if (refresh.kind === 'none') return false;
    switch (refresh.rotation) {
      case 'always':
        return true;
      case 'never':
        return false;
      case 'sometimes':
        return this.rotationRng() < this.options.sometimesRotationRate;
    }
  }

  revokeFamily(grant: Grant, reason: RevokeReason, now: number): void {
    if (this.grants.revoke(grant, reason, now)) this.log.familyRevoked(grant, now);
  }

  /** As freshly started: start-up faults and client secrets, no grants, no history. */
  reset(): void {
    this.holds.release();
    this.clients.reset();
    this.accounts.clear();
    this.grants.clear();
    this.codes.clear();
    this.consent.clear();
    this.faults.reset();
    this.waits.clear();
    this.budgets.clear();
    this.log.clear();
    this.fathom.clear();
    this.webhooks.clear();
    this.rotationRng = seededRng(this.options.seed, 'rotation');
  }

  async close(): Promise<void> {
    this.holds.release();
    await this.webhooks.close();
  }
}
