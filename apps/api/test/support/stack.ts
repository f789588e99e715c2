// The whole of Conduit for the connect and webhook tests, real: a cloned Postgres database, a
// Redis prefix of the file's own, the provider sandbox over HTTP, the api on a port chosen up
// front (its public URL must be known before the configuration is loaded), and on request the
// Fathom workers. Helpers drive the connect flow the way a browser does.
import { createHash } from 'node:crypto';
import type { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { PROVIDERS, type ProviderKey } from '@conduit/core';
import { loadConfig } from '@conduit/config';
import { QUEUE_NAMES, startFathomWorkers } from '@conduit/jobs';
import {
  createContext,
  createFathomJobs,
  createRefreshDeps,
  createTokenClient,
  type AppContext,
  type FathomJobs,
} from '@conduit/runtime';
import { createLogger } from '@conduit/observability';
import { startSandbox, type Sandbox, type SandboxOptions } from '@conduit/sandbox';
import {
  createTestDatabase,
  freePort,
  testPrefix,
  TEST_REDIS_URL,
  type TestDatabase,
} from '@conduit/testing';
import { buildServer } from '../../src/server.ts';
import type { SeededGrant } from '@conduit/sandbox';
export type { SeededGrant };

export const API_KEY = 'test-api-key-0123456789';
const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
/** The stack's API key has every scope; tests of scopes configure their own keys. */
export const API_KEYS_ENTRY = `test:connections:read+tokens:read+connections:write+meetings:read:${sha256(API_KEY)}`;

export interface StackOptions {
  label: string;
  sandbox?: SandboxOptions;
  /** extra configuration */
  env?: Record<string, string>;
  /** operator mode: register one Fathom webhook for this account (email) and configure its secret */
  webhookEmail?: string;
  /** keep the api's log lines (JSON, info and up) in `logs`, to check what they hold */
  captureLogs?: boolean;
}

export interface ConnectAttempt {
  authUrl: URL;
  /** the provider's answer to the consent URL (a 302 back to the callback) */
  location: string;
  callback: Response;
  body: string;
  /** what the popup page posts to its opener, when the answer is that page */
  message: Record<string, string> | null;
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

export async function startStack(options: StackOptions) {
  const database: TestDatabase = await createTestDatabase();
  const sandbox: Sandbox = await startSandbox({ port: 0, ...options.sandbox });
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;

  async function sandboxPost<T>(path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    if (!res.ok) throw new Error(`sandbox POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async function sandboxGet<T>(path: string): Promise<T> {
    const res = await fetch(`${sandbox.url}${path}`);
    if (!res.ok) throw new Error(`sandbox GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** A grant made directly in the sandbox (not through Conduit), e.g. to seed an account's meetings. */
  async function sandboxGrant(provider: ProviderKey, email: string): Promise<SeededGrant> {
    const { grants } = await sandboxPost<{ grants: SeededGrant[] }>('/_sandbox/grants', { provider, email });
    return grants[0]!;
  }

  let webhookSecret: string | undefined;
  if (options.webhookEmail !== undefined) {
    const grant = await sandboxGrant('fathom', options.webhookEmail);
    const res = await fetch(`${sandbox.url}${PROVIDERS.fathom.sandboxPaths.apiBaseUrl}/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${grant.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        destination_url: `${publicUrl}/v1/webhooks/fathom`,
        triggered_for: ['my_recordings'],
        include_summary: true,
      }),
    });
    if (res.status !== 201)
      throw new Error(`registering the Fathom webhook: ${res.status} ${await res.text()}`);
    webhookSecret = ((await res.json()) as { secret: string }).secret;
  }

  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    CONDUIT_QUEUE_PREFIX: `{${testPrefix(options.label)}}`,
    CONDUIT_SANDBOX_URL: sandbox.url,
    CONDUIT_PUBLIC_URL: publicUrl,
    CONDUIT_API_KEYS: API_KEYS_ENTRY,
    CONDUIT_LOCK_RETRY_DELAY_MS: '50',
    // The operator-registered mode: one webhook, one secret, deliveries matched by email.
    ...(webhookSecret !== undefined && {
      CONDUIT_FATHOM_WEBHOOK_SECRET: webhookSecret,
      CONDUIT_FATHOM_WEBHOOK_MODE: 'operator',
    }),
    ...options.env,
  });
  const ctx: AppContext = createContext(config, 'test');
  const logs: string[] = [];
  if (options.captureLogs) {
    ctx.logger = createLogger({
      level: 'info',
      format: 'json',
      name: 'test',
      destination: { write: (line: string) => void logs.push(line) },
      userIdHasher: ctx.hashOwner,
    });
  }
  const app: FastifyInstance = await buildServer(ctx);
  await app.listen({ port, host: '127.0.0.1' });

  const workers: Worker[] = [];
  const closers: Array<() => Promise<void>> = [];

  /** The sync and transcript workers, with "not ready yet" retries shortened for tests. */
  function startWorkers(notReadyDelaysMs: number[] = [50, 100]): FathomJobs {
    const tokens = createTokenClient(config);
    const jobs = createFathomJobs(ctx, createRefreshDeps(ctx, tokens));
    workers.push(
      ...startFathomWorkers(
        jobs.deps,
        { ...jobs.settings, transcripts: { notReadyDelaysMs } },
        {
          connection: () => ctx.redis.duplicate(),
          prefix: config.redis.queuePrefix,
          syncConcurrency: 2,
          transcriptConcurrency: 4,
        },
      ),
    );
    closers.push(
      () => jobs.close(),
      () => tokens.close(),
    );
    return jobs;
  }

  async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${publicUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>),
    };
  }

  /** start → the provider's consent URL (auto-answered by the sandbox) → the callback, like a browser. */
  async function connect(
    provider: ProviderKey,
    ownerId: string,
    opts: { email?: string; deny?: boolean; returnTo?: string; teamId?: string; products?: string[] } = {},
  ): Promise<ConnectAttempt> {
    const started = await api('POST', `/v1/connect/${provider}/start`, {
      ownerId,
      ...(opts.teamId !== undefined && { teamId: opts.teamId }),
      ...(opts.returnTo !== undefined && { returnTo: opts.returnTo }),
      ...(opts.products !== undefined && { products: opts.products }),
    });
    if (started.status !== 200) throw new Error(`start: ${started.status} ${JSON.stringify(started.body)}`);
    const authUrl = new URL(started.body!.authUrl as string);
    const consent = new URL(authUrl);
    if (opts.email !== undefined) consent.searchParams.set('sandbox_email', opts.email);
    if (opts.deny) consent.searchParams.set('sandbox_deny', '1');
    const answer = await fetch(consent, { redirect: 'manual' });
    if (answer.status !== 302)
      throw new Error(`consent: expected a 302, got ${answer.status} ${await answer.text()}`);
    const location = answer.headers.get('location')!;
    return follow(location, authUrl);
  }

  /** The browser arriving at a callback URL. */
  async function follow(location: string, authUrl = new URL(location)): Promise<ConnectAttempt> {
    const callback = await fetch(location, { redirect: 'manual', headers: { accept: 'text/html' } });
    const body = await callback.text();
    const m = /var message = (\{.*?\});/.exec(body);
    return {
      authUrl,
      location,
      callback,
      body,
      message: m ? (JSON.parse(m[1]!) as Record<string, string>) : null,
    };
  }

  async function report() {
    return sandboxGet<{
      anomalies: number;
      providers: Record<string, { counts: Record<string, number>; examples: Record<string, unknown[]> }>;
    }>('/_sandbox/report');
  }

  async function close(): Promise<void> {
    await Promise.all(workers.map((w) => w.close()));
    for (const c of closers) await c();
    await app.close();
    for (const name of [QUEUE_NAMES.syncFathom, QUEUE_NAMES.transcripts]) {
      await ctx.queues.get(name).obliterate({ force: true });
    }
    const keys = await ctx.redis.keys(`${config.redis.queuePrefix}*`);
    if (keys.length > 0) await ctx.redis.del(...keys);
    await ctx.close();
    await sandbox.close();
    await database.drop();
  }

  return {
    config,
    ctx,
    app,
    logs,
    sandbox,
    publicUrl,
    webhookSecret,
    api,
    connect,
    follow,
    sandboxGet,
    sandboxPost,
    sandboxGrant,
    startWorkers,
    report,
    close,
  };
}

/** Anomalies the sandbox attributes to its client, which must stay zero. */
export const CLIENT_ANOMALIES = [
  'earlyRequests',
  'expiredTokenCalls',
  'reusedRefreshTokens',
  'concurrentRefreshes',
] as const;
