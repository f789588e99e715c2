// The fleet of connections: N grants in the sandbox, spread evenly over the providers whose tokens
// refresh and over the access-token lifetimes asked for, each stored in Conduit's database as the
// OAuth callback would (encrypted tokens, `connected`), due at a random point of its lifetime.
// Which grants will be revoked mid-run is decided here, from the seed, so webhook deliveries can
// be aimed at grants that stay valid.
import { type ProviderKey, type TokenVault, providerSpec } from '@conduit/core';
import type { Db } from '@conduit/db';
import { REFRESH_PROVIDERS } from '@conduit/jobs';
import type { SandboxControl } from './sandbox-control.ts';

export interface SeededConnection {
  connectionId: string;
  grantId: string;
  provider: ProviderKey;
  email: string;
  ttlSeconds: number;
  /** revoked mid-run through the control API: must end `needs_reauth` */
  revoked: boolean;
}

const TTL_BUCKETS = 5;
const INSERT_BATCH = 5_000;

/** mulberry32: a small seeded PRNG, so a run's choices repeat with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export async function seedConnections(args: {
  sandbox: SandboxControl;
  db: Db;
  vault: TokenVault;
  connections: number;
  ttlMinSeconds: number;
  ttlMaxSeconds: number;
  revokeShare: number;
  seed: number;
}): Promise<SeededConnection[]> {
  const providers = REFRESH_PROVIDERS;
  const ttls = Array.from({ length: TTL_BUCKETS }, (_, i) =>
    Math.round(args.ttlMinSeconds + ((args.ttlMaxSeconds - args.ttlMinSeconds) * i) / (TTL_BUCKETS - 1)),
  );
  const seeded: SeededConnection[] = [];
  const random = seededRandom(args.seed);
  let index = 0;
  for (const [p, provider] of providers.entries()) {
    const perProvider =
      Math.floor(args.connections / providers.length) + (p < args.connections % providers.length ? 1 : 0);
    for (const [b, ttl] of ttls.entries()) {
      const count = Math.floor(perProvider / ttls.length) + (b < perProvider % ttls.length ? 1 : 0);
      if (count === 0) continue;
      const grants = await args.sandbox.grants(provider, count, ttl, `${provider}.ttl${ttl}.`);
      const now = Date.now();
      for (let i = 0; i < grants.length; i += INSERT_BATCH) {
        const batch = grants.slice(i, i + INSERT_BATCH);
        const rows = await args.db.connection.createManyAndReturn({
          data: batch.map((g) => ({
            ownerId: `chaos-owner-${index++}`,
            provider,
            externalAccountId: g.accountId,
            externalEmail: g.email.toLowerCase(),
            accessTokenEnc: args.vault.encrypt(g.accessToken),
            refreshTokenEnc: g.refreshToken === null ? null : args.vault.encrypt(g.refreshToken),
            // Conduit believes the token expires somewhere in its lifetime, as in a fleet that has
            // been running for a while: refreshes start staggered, not in one wave per lifetime.
            tokenExpiresAt: new Date(now + (g.expiresIn ?? ttl) * 1000 * (0.3 + 0.7 * random())),
            scopes: [...providerSpec(provider).scopes.default],
          })),
          select: { id: true, externalAccountId: true },
        });
        const byAccount = new Map(rows.map((r) => [r.externalAccountId, r.id]));
        for (const g of batch) {
          seeded.push({
            connectionId: byAccount.get(g.accountId)!,
            grantId: g.grantId,
            provider,
            email: g.email.toLowerCase(),
            ttlSeconds: ttl,
            revoked: false,
          });
        }
      }
    }
  }
  const revokeCount = args.revokeShare > 0 ? Math.max(1, Math.round(seeded.length * args.revokeShare)) : 0;
  for (let chosen = 0, guard = 0; chosen < revokeCount && guard < seeded.length * 20; guard++) {
    const c = seeded[Math.floor(random() * seeded.length)]!;
    if (c.revoked) continue;
    c.revoked = true;
    chosen++;
  }
  return seeded;
}
