// `conduit keys rotate`: re-encrypts every stored token that is not under the vault's active key
// (the first of CONDUIT_ENCRYPTION_KEYS), in id order, a batch per statement. Resumable by
// construction: it only ever looks for rows still under an old key, so a run that was killed
// simply finishes on the next one. Once it reports nothing left, the old key can be dropped.
import type { TokenVault } from '@conduit/core';
import { MaintenanceRepository } from '@conduit/db';
import type { AppContext } from '@conduit/runtime';
import { EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { createProgress, type Progress } from '../progress.ts';
import { ROTATE_BATCH } from '../limits.ts';

export { ROTATE_BATCH };

export interface RotateReport {
  activeKeyId: string;
  connections: number;
  oauthStates: number;
  /** pending grant revocations' tokens and per-connection webhook secrets */
  otherSecrets: number;
  /** a concurrent write changed the row first; picked up by the next run if still under an old key */
  changedMeanwhile: number;
  /** rows whose ciphertext no key in the keyring opens (ids and reasons: safe to print) */
  unreadable: Array<{
    table: 'Connection' | 'OAuthState' | 'GrantRevocation' | 'ConnectionWebhook';
    id: string;
    reason: string;
  }>;
  /** rows still under an old key after this run */
  remaining: number;
}

export async function rotateKeys(
  ctx: Pick<AppContext, 'db' | 'vault'>,
  opts: { batch: number; progress?: (total: number) => Progress },
): Promise<RotateReport> {
  const repo = new MaintenanceRepository(ctx.db);
  const activeKeyId = ctx.vault.activeKeyId;
  const total =
    (await repo.countConnectionsNotUnder(activeKeyId)) +
    (await repo.countOAuthStatesNotUnder(activeKeyId)) +
    (await countOthersNotUnder(ctx.db, activeKeyId));
  const progress = opts.progress?.(total);
  const report: RotateReport = {
    activeKeyId,
    connections: 0,
    oauthStates: 0,
    otherSecrets: 0,
    changedMeanwhile: 0,
    unreadable: [],
    remaining: 0,
  };
  try {
    let after: string | undefined;
    for (;;) {
      const rows = await repo.listConnectionsNotUnder({ activeKeyId, after, limit: opts.batch });
      if (rows.length === 0) break;
      const updates = [];
      for (const row of rows) {
        try {
          updates.push({
            id: row.id,
            version: row.version,
            ...(needs(ctx.vault, row.accessTokenEnc) && {
              accessTokenEnc: ctx.vault.reencrypt(row.accessTokenEnc!),
            }),
            ...(needs(ctx.vault, row.refreshTokenEnc) && {
              refreshTokenEnc: ctx.vault.reencrypt(row.refreshTokenEnc!),
            }),
          });
        } catch (err) {
          report.unreadable.push({ table: 'Connection', id: row.id, reason: (err as Error).message });
        }
      }
      const written = await repo.writeConnectionCiphertexts(updates);
      report.connections += written.size;
      report.changedMeanwhile += updates.length - written.size;
      progress?.increment(rows.length);
      after = rows[rows.length - 1]!.id;
    }

    after = undefined;
    for (;;) {
      const rows = await repo.listOAuthStatesNotUnder({ activeKeyId, after, limit: opts.batch });
      if (rows.length === 0) break;
      const updates = [];
      for (const row of rows) {
        try {
          updates.push({
            id: row.id,
            previous: row.codeVerifierEnc,
            codeVerifierEnc: ctx.vault.reencrypt(row.codeVerifierEnc),
          });
        } catch (err) {
          report.unreadable.push({ table: 'OAuthState', id: row.id, reason: (err as Error).message });
        }
      }
      const written = await repo.writeOAuthStateCiphertexts(updates);
      report.oauthStates += written.size;
      report.changedMeanwhile += updates.length - written.size;
      progress?.increment(rows.length);
      after = rows[rows.length - 1]!.id;
    }
    await rotateOthers(ctx, report, (n) => progress?.increment(n));
  } finally {
    progress?.stop();
  }
  report.remaining =
    (await repo.countConnectionsNotUnder(activeKeyId)) +
    (await repo.countOAuthStatesNotUnder(activeKeyId)) +
    (await countOthersNotUnder(ctx.db, activeKeyId));
  return report;
}

// The small tables with secrets: pending revocations (tokens kept until the provider confirms)
// and per-connection webhook secrets. Each row is written only if its ciphertext is unchanged.
const notUnder = (activeKeyId: string) => ({ not: { startsWith: `v1.${activeKeyId}.` } });

function revocationsNotUnder(activeKeyId: string) {
  return {
    status: 'pending' as const,
    OR: [{ accessTokenEnc: notUnder(activeKeyId) }, { refreshTokenEnc: notUnder(activeKeyId) }],
  };
}

async function countOthersNotUnder(db: AppContext['db'], activeKeyId: string): Promise<number> {
  return (
    (await db.grantRevocation.count({ where: revocationsNotUnder(activeKeyId) })) +
    (await db.connectionWebhook.count({ where: { secretEnc: notUnder(activeKeyId) } }))
  );
}

async function rotateOthers(
  ctx: Pick<AppContext, 'db' | 'vault'>,
  report: RotateReport,
  progressed: (n: number) => void,
): Promise<void> {
  const { db, vault } = ctx;
  const again = (cipher: string | null) =>
    cipher !== null && needs(vault, cipher) ? vault.reencrypt(cipher) : cipher;
  const revocations = await db.grantRevocation.findMany({
    where: revocationsNotUnder(vault.activeKeyId),
    select: { id: true, accessTokenEnc: true, refreshTokenEnc: true },
  });
  for (const r of revocations) {
    try {
      const { count } = await db.grantRevocation.updateMany({
        where: { id: r.id, accessTokenEnc: r.accessTokenEnc, refreshTokenEnc: r.refreshTokenEnc },
        data: { accessTokenEnc: again(r.accessTokenEnc), refreshTokenEnc: again(r.refreshTokenEnc) },
      });
      if (count === 1) report.otherSecrets += 1;
      else report.changedMeanwhile += 1;
    } catch (err) {
      report.unreadable.push({ table: 'GrantRevocation', id: r.id, reason: (err as Error).message });
    }
  }
  progressed(revocations.length);
  const webhooks = await db.connectionWebhook.findMany({
    where: { secretEnc: notUnder(vault.activeKeyId) },
    select: { connectionId: true, secretEnc: true },
  });
  for (const w of webhooks) {
    try {
      const { count } = await db.connectionWebhook.updateMany({
        where: { connectionId: w.connectionId, secretEnc: w.secretEnc },
        data: { secretEnc: again(w.secretEnc) },
      });
      if (count === 1) report.otherSecrets += 1;
      else report.changedMeanwhile += 1;
    } catch (err) {
      report.unreadable.push({
        table: 'ConnectionWebhook',
        id: w.connectionId,
        reason: (err as Error).message,
      });
    }
  }
  progressed(webhooks.length);
}

function needs(vault: TokenVault, cipher: string | null): boolean {
  return cipher !== null && vault.needsReencryption(cipher);
}

export async function keysRotateCommand(
  ctx: Pick<AppContext, 'db' | 'vault'>,
  out: Output,
  opts: { batch: number },
): Promise<number> {
  const report = await rotateKeys(ctx, {
    batch: opts.batch,
    progress: (total) => createProgress(out, 'keys rotate', total, 'rows'),
  });
  out.line(
    `Re-encrypted ${report.connections} connection${report.connections === 1 ? '' : 's'} and ` +
      `${report.oauthStates} OAuth state${report.oauthStates === 1 ? '' : 's'}` +
      (report.otherSecrets > 0
        ? `, and ${report.otherSecrets} webhook secret${report.otherSecrets === 1 ? '' : 's'} or pending revocation${report.otherSecrets === 1 ? '' : 's'}`
        : '') +
      ` under key "${report.activeKeyId}".`,
  );
  for (const u of report.unreadable) out.error(`${u.table} ${u.id} was left as it is: ${u.reason}`);
  if (report.remaining === 0) {
    out.line(
      `Every stored token is now under key "${report.activeKeyId}"; older keys can be removed from CONDUIT_ENCRYPTION_KEYS.`,
    );
    return EXIT.ok;
  }
  out.error(
    `${report.remaining} row${report.remaining === 1 ? ' is' : 's are'} still under an older key` +
      (report.changedMeanwhile > 0 ? ` (${report.changedMeanwhile} changed while this ran)` : '') +
      '; run "conduit keys rotate" again, and keep the older keys until it reports none left.',
  );
  return EXIT.failure;
}
