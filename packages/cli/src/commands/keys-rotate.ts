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
  /** a concurrent write changed the row first; picked up by the next run if still under an old key */
  changedMeanwhile: number;
  /** rows whose ciphertext no key in the keyring opens (ids and reasons: safe to print) */
  unreadable: Array<{ table: 'Connection' | 'OAuthState'; id: string; reason: string }>;
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
    (await repo.countConnectionsNotUnder(activeKeyId)) + (await repo.countOAuthStatesNotUnder(activeKeyId));
  const progress = opts.progress?.(total);
  const report: RotateReport = {
    activeKeyId,
    connections: 0,
    oauthStates: 0,
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
  } finally {
    progress?.stop();
  }
  report.remaining =
    (await repo.countConnectionsNotUnder(activeKeyId)) + (await repo.countOAuthStatesNotUnder(activeKeyId));
  return report;
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
      `${report.oauthStates} OAuth state${report.oauthStates === 1 ? '' : 's'} under key "${report.activeKeyId}".`,
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
