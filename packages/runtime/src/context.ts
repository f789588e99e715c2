// The pieces every app builds from its configuration, built one way. Apps stay composition
// roots: they pick what they need from here, start it, and stop it.
import {
  PROVIDER_KEYS,
  TokenVault,
  defineRetryPolicy,
  parseKeyring,
  resolveEndpoints,
  type ProviderKey,
  providerSpec,
} from '@conduit/core';
import { clientConfig, type Config } from '@conduit/config';
import { ConnectionLeases, ConnectionRepository, createDb, RefreshStore, type Db } from '@conduit/db';
import {
  AccessTokens,
  ProviderGate,
  Queues,
  RedisLocks,
  LaneSlots,
  RefreshCommits,
  RescueSlots,
  createRedis,
  createRevocationDrain,
  type RedisClient,
  type RevocationDrain,
  type RevocationResult,
  type RefreshDeps,
  type RefreshObserver,
} from '@conduit/jobs';
import {
  createLogger,
  createUserIdHasher,
  type CreateLoggerOptions,
  type Logger,
  type UserIdHasher,
} from '@conduit/observability';
import { RevocationClient, TokenClient, type RevocationTarget } from '@conduit/providers';
import { RedisOutageLog, redisEndpoint } from './redis-outages.ts';

export interface AppContext {
  config: Config;
  logger: Logger;
  hashOwner: UserIdHasher;
  db: Db;
  /** one Redis server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES) */
  redis: RedisClient;
  /** Redis errors of every client, Queue and Worker of this process, logged once per outage */
  redisOutages: RedisOutageLog;
  vault: TokenVault;
  queues: Queues;
  connections: ConnectionRepository;
  /** closes everything this context opened, in reverse order */
  close(): Promise<void>;
}

export interface ContextOptions {
  /** where log lines go; stdout by default (the CLI keeps stdout for results) */
  logDestination?: CreateLoggerOptions['destination'];
}

export function createContext(config: Config, name: string, options: ContextOptions = {}): AppContext {
  const hashOwner = createUserIdHasher(config.security.logHashKey);
  const logger = createLogger({
    level: config.runtime.logLevel,
    format: config.runtime.logFormat,
    name,
    userIdHasher: hashOwner,
    ...(options.logDestination && { destination: options.logDestination }),
  });
  const db = createDb({
    databaseUrl: config.database.url,
    poolSize: config.database.poolSize,
    statementTimeoutMs: config.database.statementTimeoutMs,
    lockTimeoutMs: config.database.lockTimeoutMs,
  });
  const clusterNodes = config.redis.clusterNodes;
  const endpoint = clusterNodes
    ? clusterNodes.map((n) => `${n.host}:${n.port}`).join(',')
    : redisEndpoint(config.redis.url);
  const redisOutages = new RedisOutageLog(logger, endpoint);
  // Every connection of the app is this one or a duplicate of it, so all of them are watched.
  const redis = redisOutages.watchClient(
    createRedis(config.redis, { connectionName: `conduit-${name}` }),
    'redis',
  );
  const vault = new TokenVault(
    parseKeyring(config.security.encryptionKeys.map((k) => `${k.id}:${k.key}`).join(',')),
  );
  const queues = new Queues({
    connection: redis,
    prefix: config.redis.queuePrefix,
    onCreate: (queue) => redisOutages.watch(queue, `queue ${queue.name}`),
  });
  const connections = new ConnectionRepository(db);
  return {
    config,
    logger,
    hashOwner,
    db,
    redis,
    redisOutages,
    vault,
    queues,
    connections,
    async close() {
      await queues.close();
      await db.$disconnect();
      redis.disconnect();
    },
  };
}

/**
 * Resolved endpoints of one provider: explicit override, else the sandbox, else the real host.
 * The authorize URL is opened by the user's browser, so it uses the sandbox's browser-facing URL.
 */
export function endpointsOf(config: Config, provider: ProviderKey) {
  const c = clientConfig(config.providers, provider);
  const { sandboxUrl, sandboxBrowserUrl } = config.providers;
  const resolved = resolveEndpoints(providerSpec(provider), {
    sandboxUrl,
    authorizeUrl: c.authorizeUrl,
    tokenUrl: c.tokenUrl,
    apiBaseUrl: c.apiBaseUrl,
  });
  if (c.authorizeUrl !== undefined || sandboxBrowserUrl === undefined) return resolved;
  return {
    ...resolved,
    authorizeUrl: `${sandboxBrowserUrl}${providerSpec(provider).sandboxPaths.authorizeUrl}`,
  };
}

export function enabledProviders(config: Config): ProviderKey[] {
  return PROVIDER_KEYS.filter((p) => clientConfig(config.providers, p).enabled);
}

/** What every client that calls a provider shares: timeouts, default rate-limit wait, User-Agent. */
export function providerHttpOptions(config: Config) {
  const t = config.timings;
  return {
    timeouts: {
      connectMs: t.httpConnectTimeoutMs,
      headersMs: t.httpHeadersTimeoutMs,
      bodyMs: t.httpBodyTimeoutMs,
    },
    rateLimitDefaultWaitMs: t.rateLimitDefaultWaitSeconds * 1000,
    userAgent: config.providers.userAgent,
  };
}

export function createTokenClient(config: Config): TokenClient {
  const providers: Partial<
    Record<ProviderKey, { clientId: string; clientSecret: string; tokenUrl: string }>
  > = {};
  for (const p of enabledProviders(config)) {
    const c = clientConfig(config.providers, p);
    if (c.enabled)
      providers[p] = {
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        tokenUrl: endpointsOf(config, p).tokenUrl,
      };
  }
  return new TokenClient({
    providers: providers as ConstructorParameters<typeof TokenClient>[0]['providers'],
    ...providerHttpOptions(config),
  });
}

/** One group of grouped token writes per process, whoever refreshes (every lane, inline callers). */
const COMMITS = new WeakMap<AppContext, RefreshCommits>();

function commitsOf(ctx: AppContext): RefreshCommits {
  let commits = COMMITS.get(ctx);
  if (!commits) {
    commits = new RefreshCommits(new RefreshStore(ctx.db), ctx.logger, {
      retryMaxMs: ctx.config.timings.refreshCommitRetryMaxMs,
    });
    COMMITS.set(ctx, commits);
  }
  return commits;
}

/** One set of lane slots per process, shared by every refresh of that process. */
const LANES = new WeakMap<AppContext, LaneSlots>();

function lanesOf(ctx: AppContext): LaneSlots {
  let lanes = LANES.get(ctx);
  if (!lanes) {
    lanes = new LaneSlots(ctx.config.timings.refreshConcurrency);
    LANES.set(ctx, lanes);
  }
  return lanes;
}

export function createRefreshDeps(
  ctx: AppContext,
  tokens: RefreshDeps['tokens'],
  observer?: RefreshObserver,
): RefreshDeps {
  const t = ctx.config.timings;
  const prefix = ctx.config.redis.queuePrefix;
  return {
    connections: ctx.connections,
    vault: ctx.vault,
    tokens,
    locks: new RedisLocks(ctx.redis, `${prefix}:lock`),
    leases: new ConnectionLeases(ctx.db),
    commits: commitsOf(ctx),
    lanes: lanesOf(ctx),
    rescue: new RescueSlots(
      ctx.redis,
      `${prefix}:rescue`,
      t.refreshRescueTtlSeconds * 1000,
      t.refreshRescueTimeoutMs,
    ),
    gate: new ProviderGate(ctx.redis, `${prefix}:gate`),
    redis: ctx.redis,
    keyPrefix: prefix,
    policy: defineRetryPolicy({
      maxAttempts: t.retryAttempts,
      baseDelayMs: t.retryBaseMs,
      maxDelayMs: t.retryMaxMs,
      rateLimitDefaultWaitMs: t.rateLimitDefaultWaitSeconds * 1000,
      cooldownMs: t.refreshCooldownSeconds * 1000,
      transientFailureLimitMs: t.transientFailureLimitHours * 3_600_000,
    }),
    settings: {
      bufferMs: t.refreshBufferSeconds * 1000,
      lockTtlMs: t.lockTtlMs,
      commitBudgetMs: t.refreshCommitBudgetMs,
      commitRetryMaxMs: t.refreshCommitRetryMaxMs,
      invalidClientPauseThreshold: t.invalidClientPauseThreshold,
      invalidClientPauseMs: t.invalidClientPauseSeconds * 1000,
      refreshTokenWindowMs: t.refreshTokenWindowDays * 86_400_000,
      batchParallelism: t.refreshBatchParallelism,
    },
    logger: ctx.logger,
    hashOwner: ctx.hashOwner,
    ...(observer && { observer }),
  };
}

/** The library entry point for application code: `getValidAccessToken(connectionId)`. */
export function createAccessTokens(deps: RefreshDeps): AccessTokens {
  return new AccessTokens(deps);
}

/** Revokes grants on disconnect where the catalogue says the provider can (the sandbox's in development). */
export function createRevocationClient(config: Config): RevocationClient {
  const targets: Partial<Record<ProviderKey, RevocationTarget>> = {};
  const sandbox = config.providers.sandboxUrl?.replace(/\/+$/, '');
  for (const p of enabledProviders(config)) {
    const c = clientConfig(config.providers, p);
    const spec = providerSpec(p).revocation;
    if (!c.enabled || spec.kind === 'none') continue;
    const url = (sandbox ? `${sandbox}${spec.sandboxPath}` : spec.url).replace(
      '{client_id}',
      encodeURIComponent(c.clientId),
    );
    targets[p] = { clientId: c.clientId, clientSecret: c.clientSecret, url };
  }
  const t = config.timings;
  return new RevocationClient({
    targets,
    timeoutMs: t.httpConnectTimeoutMs + t.httpHeadersTimeoutMs,
    userAgent: config.providers.userAgent,
  });
}

/**
 * The revocation outbox's drain with its own HTTP client: the worker starts it (retries with
 * backoff), the api only calls `attemptSoon` after a disconnect. `close` stops both.
 */
export function createGrantRevocations(
  ctx: Pick<AppContext, 'config' | 'db' | 'vault' | 'logger'>,
  onResult?: (provider: ProviderKey, result: RevocationResult) => void,
): { drain: RevocationDrain; close(): Promise<void> } {
  const client = createRevocationClient(ctx.config);
  const t = ctx.config.timings;
  const drain = createRevocationDrain(
    ctx.db,
    { revoker: client, vault: ctx.vault, logger: ctx.logger, ...(onResult && { onResult }) },
    {
      pollMs: t.revocationPollMs,
      maxAttempts: t.revocationMaxAttempts,
      maxAgeMs: t.revocationMaxAgeHours * 3_600_000,
      retryBaseMs: t.revocationRetryBaseMs,
      retryMaxMs: t.revocationRetryMaxMs,
      attemptTimeoutMs: t.httpConnectTimeoutMs + t.httpHeadersTimeoutMs,
    },
  );
  return {
    drain,
    async close() {
      await drain.stop();
      await client.close();
    },
  };
}
