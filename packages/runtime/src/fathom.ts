// The Fathom pieces built from configuration: the API client, the per-account budget shared
// through Redis, and the two job lanes (sync-fathom, transcripts) with their dependencies.
import { PROVIDERS, type ProviderKey, providerSpec } from '@conduit/core';
import type { Config } from '@conduit/config';
import {
  ConnectionWebhookRepository,
  MeetingRepository,
  SyncRepository,
  WebhookDeliveryRepository,
} from '@conduit/db';
import {
  AccountBudget,
  ApiCaller,
  DEFAULT_NOT_READY_DELAYS_MS,
  FathomWebhookRegistrar,
  startFathomWorkers,
  type RefreshDeps,
  type SyncDeps,
  type SyncSettings,
  type TranscriptDeps,
  type TranscriptSettings,
} from '@conduit/jobs';
import { FathomClient } from '@conduit/providers';
import { createAccessTokens, endpointsOf, providerHttpOptions, type AppContext } from './context.ts';

/** Time from taking a budget slot to the request reaching the provider, with room to spare. */
const BUDGET_MARGIN_MS = 1_000;

export function createFathomClient(config: Config): FathomClient {
  return new FathomClient({
    apiBaseUrl: endpointsOf(config, 'fathom').apiBaseUrl,
    ...providerHttpOptions(config),
  });
}

/** Budgets of the providers that document a per-account limit; configuration may lower Fathom's. */
export function createAccountBudgets(ctx: AppContext): Partial<Record<ProviderKey, AccountBudget>> {
  const perMinute: Partial<Record<ProviderKey, number>> = {
    fathom: ctx.config.timings.fathomRequestsPerMinute,
  };
  const budgets: Partial<Record<ProviderKey, AccountBudget>> = {};
  for (const provider of Object.keys(PROVIDERS) as ProviderKey[]) {
    const documented = providerSpec(provider).rateLimit.accountBudget;
    if (!documented) continue;
    const configured = perMinute[provider];
    const settings =
      configured === undefined
        ? { requests: documented.requests, windowMs: documented.windowSeconds * 1000 }
        : { requests: configured, windowMs: 60_000 };
    budgets[provider] = new AccountBudget(ctx.redis, `${ctx.config.redis.queuePrefix}:budget`, {
      ...settings,
      marginMs: BUDGET_MARGIN_MS,
    });
  }
  return budgets;
}

export interface FathomJobs {
  deps: { sync: SyncDeps; transcripts: TranscriptDeps };
  settings: { sync: SyncSettings; transcripts: TranscriptSettings };
  client: FathomClient;
  close(): Promise<void>;
}

export function createFathomJobs(
  ctx: AppContext,
  refresh: RefreshDeps,
  onSyncItems?: (count: number) => void,
): FathomJobs {
  const t = ctx.config.timings;
  const client = createFathomClient(ctx.config);
  const caller = new ApiCaller({
    accessTokens: createAccessTokens(refresh),
    refresh,
    budgets: createAccountBudgets(ctx),
    tokenRetryMs: t.retryMaxMs,
  });
  // Data events go to the outbox only when someone receives them.
  const notify = { notify: ctx.config.security.notify !== undefined };
  const meetings = new MeetingRepository(ctx.db, notify);
  const deliveries = new WebhookDeliveryRepository(ctx.db);
  const common = { api: client, caller, connections: ctx.connections, meetings, logger: ctx.logger };
  return {
    deps: {
      sync: {
        ...common,
        sync: new SyncRepository(ctx.db, notify),
        deliveries,
        locks: refresh.locks,
        queues: ctx.queues,
        hashOwner: ctx.hashOwner,
        ...(onSyncItems && { onItems: onSyncItems }),
      },
      transcripts: { ...common, deliveries },
    },
    settings: {
      sync: {
        overlapMs: t.syncOverlapSeconds * 1000,
        lockTtlMs: t.lockTtlMs,
        lockRetryDelayMs: t.lockRetryDelayMs,
      },
      transcripts: { notReadyDelaysMs: DEFAULT_NOT_READY_DELAYS_MS },
    },
    client,
    close: () => client.close(),
  };
}

/** The sync-fathom and transcripts workers, when Fathom is enabled. */
export function createFathomWorkers(
  ctx: AppContext,
  refresh: RefreshDeps,
  onSyncItems?: (count: number) => void,
): {
  workers: ReturnType<typeof startFathomWorkers>;
  close(): Promise<void>;
} {
  if (!ctx.config.providers.clients.fathom.enabled) return { workers: [], close: async () => undefined };
  const t = ctx.config.timings;
  const jobs = createFathomJobs(ctx, refresh, onSyncItems);
  const workers = startFathomWorkers(jobs.deps, jobs.settings, {
    connection: () => ctx.redis.duplicate(),
    prefix: ctx.config.redis.queuePrefix,
    syncConcurrency: t.syncConcurrency,
    transcriptConcurrency: t.syncConcurrency,
    lockDuration: t.jobLockMs,
    stalledInterval: t.stalledIntervalMs,
  });
  for (const w of workers) ctx.redisOutages.watch(w, `worker ${w.name}`);
  return { workers, close: () => jobs.close() };
}

/** Per-connection Fathom webhooks (CONDUIT_FATHOM_WEBHOOK_MODE=per_connection), with their own client. */
export function createFathomWebhookRegistrar(
  ctx: AppContext,
  refresh: RefreshDeps,
): { registrar: FathomWebhookRegistrar; webhooks: ConnectionWebhookRepository; close(): Promise<void> } {
  const client = createFathomClient(ctx.config);
  const webhooks = new ConnectionWebhookRepository(ctx.db);
  const registrar = new FathomWebhookRegistrar({
    api: client,
    webhooks,
    vault: ctx.vault,
    accessTokens: createAccessTokens(refresh),
    publicUrl: ctx.config.api.publicUrl,
    logger: ctx.logger,
  });
  return { registrar, webhooks, close: () => client.close() };
}

/** Whether Conduit registers a webhook per Fathom connection. */
export function registersFathomWebhooks(config: Config): boolean {
  return config.providers.clients.fathom.enabled && config.api.fathomWebhookMode === 'per_connection';
}
