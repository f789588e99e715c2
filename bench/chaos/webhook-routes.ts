// Where the chaos run's deliveries go, and the secret each is signed with. Per connection (what
// Conduit does on connect): every Fathom connection gets a webhook registered through the
// sandbox's Fathom API with its own token, to /v1/webhooks/fathom/<routing id>, and the row the
// connect flow would store (routing id, the provider's webhook id, the secret vault-encrypted);
// each delivery is then signed with that webhook's own secret. Operator mode: one route, one
// secret, the account matched by the recorder's email.
import type { TokenVault } from '@conduit/core';
import { newRoutingId, type Db } from '@conduit/db';
import type { SandboxControl } from './sandbox-control.ts';
import type { SeededConnection } from './seed.ts';

export interface WebhookRoute {
  url: string;
  secret: string;
}

export type RouteOf = (target: SeededConnection) => WebhookRoute;

const CONCURRENCY = 16;

export function operatorRoutes(apiUrl: string, secret: string): RouteOf {
  const route = { url: `${apiUrl}/v1/webhooks/fathom`, secret };
  return () => route;
}

/** Registers one webhook per Fathom connection; returns each one's route and secret. */
export async function registerConnectionWebhooks(args: {
  apiUrl: string;
  sandbox: SandboxControl;
  db: Db;
  vault: TokenVault;
  seeded: readonly SeededConnection[];
}): Promise<RouteOf> {
  const fathom = args.seeded.filter((c) => c.provider === 'fathom');
  const rows = await args.db.connection.findMany({
    where: { id: { in: fathom.map((c) => c.connectionId) } },
    select: { id: true, accessTokenEnc: true },
  });
  const tokens = new Map(rows.map((r) => [r.id, r.accessTokenEnc]));
  const routes = new Map<string, WebhookRoute>();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < fathom.length; i = next++) {
      const conn = fathom[i]!;
      const routingId = newRoutingId();
      const url = `${args.apiUrl}/v1/webhooks/fathom/${routingId}`;
      const hook = await args.sandbox.registerFathomWebhook(
        args.vault.decrypt(tokens.get(conn.connectionId)!),
        url,
      );
      const now = new Date();
      await args.db.connectionWebhook.create({
        data: {
          connectionId: conn.connectionId,
          provider: 'fathom',
          routingId,
          externalId: hook.id,
          secretEnc: args.vault.encrypt(hook.secret),
          registeredAt: now,
          checkedAt: now,
        },
      });
      routes.set(conn.connectionId, { url, secret: hook.secret });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return (target) => {
    const route = routes.get(target.connectionId);
    if (!route) throw new Error(`connection ${target.connectionId} has no registered webhook`);
    return route;
  };
}
