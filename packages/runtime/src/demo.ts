// `npm start` shows a working system at once: a few demo users connected to the local sandbox,
// with short-lived tokens so refreshes (and, for Fathom, syncs) happen within minutes.
// Development only. A restart is a non-event: `npm start` keeps the sandbox's grants in a file,
// so a demo connection that is still healthy and whose grant the sandbox still holds is left
// alone; only a missing one, or one the sandbox no longer knows, gets a fresh grant.
import { setTimeout as sleep } from 'node:timers/promises';
import { providerSpec, type ProviderKey } from '@conduit/core';
import { QUEUE_NAMES, type SyncJobData } from '@conduit/jobs';
import type { AppContext } from './context.ts';
import type { SeededGrant } from '@conduit/sandbox';

const DEMO_PROVIDERS: ProviderKey[] = ['fathom', 'spotify', 'google', 'discord', 'github_app'];

async function sandboxPost<T>(base: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`sandbox ${path} answered ${res.status}`);
  return (await res.json()) as T;
}

async function sandboxGet<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`);
  if (!res.ok) throw new Error(`sandbox ${path} answered ${res.status}`);
  return (await res.json()) as T;
}

interface SandboxGrantView {
  provider: string;
  accountId: string;
  family: 'active' | 'revoked';
}

async function waitForSandbox(base: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${base}/_sandbox/health`)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline)
      throw new Error(`the sandbox at ${base} did not answer within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

export async function seedDemoConnections(ctx: AppContext): Promise<number> {
  const base = ctx.config.providers.sandboxUrl;
  const count = ctx.config.sandbox.demoUsers;
  if (!base || count <= 0 || ctx.config.runtime.isProduction) return 0;
  await waitForSandbox(base, 30_000);
  const { grants: held } = await sandboxGet<{ grants: SandboxGrantView[] }>(
    base,
    '/_sandbox/grants?limit=100000',
  );
  const active = new Set(
    held.filter((g) => g.family === 'active').map((g) => `${g.provider}:${g.accountId}`),
  );
  let kept = 0;
  for (let i = 0; i < count; i++) {
    const provider = DEMO_PROVIDERS[i % DEMO_PROVIDERS.length]!;
    if (ctx.config.providers.clients[provider]?.enabled !== true) continue;
    const ownerId = `demo-user-${i + 1}`;
    const current = await ctx.db.connection.findUnique({
      where: { ownerId_provider: { ownerId, provider } },
    });
    if (
      current &&
      (current.status === 'connected' || current.status === 'token_expired') &&
      active.has(`${provider}:${current.externalAccountId}`)
    ) {
      kept += 1;
      continue;
    }
    const { grants } = await sandboxPost<{ grants: SeededGrant[] }>(base, '/_sandbox/grants', {
      provider,
      email: `demo${i + 1}@example.com`,
      accessTokenTtlSeconds: ctx.config.sandbox.demoTokenTtlSeconds,
    });
    const g = grants[0]!;
    const now = new Date();
    const tokens = {
      externalAccountId: g.accountId,
      externalEmail: g.email,
      accessTokenEnc: ctx.vault.encrypt(g.accessToken),
      refreshTokenEnc: g.refreshToken ? ctx.vault.encrypt(g.refreshToken) : null,
      tokenExpiresAt: g.expiresIn === null ? null : new Date(now.getTime() + g.expiresIn * 1000),
    };
    const existing = await ctx.db.connection.findUnique({
      where: { ownerId_provider: { ownerId, provider } },
    });
    let connectionId: string;
    if (existing) {
      await ctx.connections.changeStatus(existing, 'connected', { kind: 'reconnected' }, now, {
        data: tokens,
      });
      connectionId = existing.id;
    } else {
      const created = await ctx.db.connection.create({ data: { ownerId, provider, ...tokens } });
      await ctx.db.connectionEvent.create({
        data: {
          connectionId: created.id,
          from: null,
          to: 'connected',
          reason: 'demo user connected',
          at: now,
        },
      });
      connectionId = created.id;
    }
    if (providerSpec(provider).dataSync === 'fathom_meetings') {
      await sandboxPost(base, '/_sandbox/fathom/meetings', { grantId: g.grantId, count: 12 });
      const data: SyncJobData = { connectionId, mode: 'full', reason: 'connected' };
      await ctx.queues
        .get(QUEUE_NAMES.syncFathom)
        .add('sync', data, { deduplication: { id: `sync:${connectionId}` } });
    }
  }
  ctx.logger.info({ count, kept }, 'demo users connected to the sandbox');
  return count;
}
