// Every provider API call passes here first. In order: classify the access token and count
// what the client did wrong (expired, revoked, lapsed while in use, back before a Retry-After);
// then faults and holds; then the 401 for bad tokens; then the documented per-account budget.
import type { ProviderKey } from '@conduit/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { enactFault } from '../faults.ts';
import type { AccessRecord, Grant } from '../grants/store.ts';
import { send } from '../http.ts';
import { rateLimitHeaders } from '../rate-limit-answers.ts';
import { accountKey } from '../rate-limit.ts';
import type { SandboxState } from '../state.ts';
import { bearerToken, unauthorized, type BadToken } from './dialects.ts';

/** The grant behind a valid token, or undefined when the request was already answered. */
export async function guardApi(
  sb: SandboxState,
  candidates: readonly ProviderKey[],
  req: FastifyRequest,
  reply: FastifyReply,
  /** which fault rules apply: the data API's, or the webhook registration API's */
  faultEndpoint: 'api' | 'webhooks' = 'api',
): Promise<Grant | undefined> {
  const now = Date.now();
  const token = bearerToken(req.headers.authorization);
  const record = token === undefined ? undefined : sb.grants.byAccessToken(token);
  const grant = record && candidates.includes(record.grant.provider) ? record.grant : undefined;
  const provider = grant?.provider ?? candidates[0]!;
  const traffic = sb.log.traffic(provider);
  traffic.apiCalls += 1;

  let bad: BadToken | null = token === undefined ? 'missing' : 'unknown';
  let waitKey = `${provider}|anonymous`;
  if (grant && record) {
    waitKey = accountKey(provider, grant.account.id);
    sb.noteEarly(provider, waitKey, now, () => ({ grantId: grant.id, accountId: grant.account.id }));
    bad = classify(sb, record, now);
  }

  const fault = sb.faults.roll(provider, faultEndpoint);
  if (fault && (await enactFault(fault, reply, sb.faultHooks(provider, 'api', waitKey))) === 'answered')
    return undefined;
  if (sb.holds.isHeld(provider, 'api')) {
    traffic.held += 1;
    if ((await sb.holds.park(provider, 'api', reply)) === 'abandoned') return undefined;
  }
  if (bad !== null || !grant) {
    traffic.apiUnauthorized += 1;
    send(reply, unauthorized(provider, bad ?? 'unknown'));
    return undefined;
  }

  const budget = sb.budget(provider);
  if (budget) {
    const state = sb.budgets.take(waitKey, budget, now);
    if (!state.allowed) {
      const seconds = state.resetSeconds;
      send(
        reply,
        sb.rateLimited(provider, 'api', waitKey, { seconds, status: 429, now, limit: budget.requests }),
      );
      return undefined;
    }
    reply.headers(rateLimitHeaders(state.limit, state.remaining, state.resetSeconds));
  }
  grant.lastApiUseAt = now;
  return grant;
}

/** null for a valid token; otherwise why not, with the anomalies it reveals counted. */
function classify(sb: SandboxState, record: AccessRecord, now: number): BadToken | null {
  const grant = record.grant;
  const provider = grant.provider;
  if (grant.revokedAt !== null) {
    sb.log.count(provider, 'revokedTokenCalls', now, () => ({
      grantId: grant.id,
      accountId: grant.account.id,
      detail: `API call with an access token of a family revoked (${grant.revokedReason}) at ${new Date(grant.revokedAt!).toISOString()}`,
    }));
    return 'revoked';
  }
  if (now < record.expiresAt) return null;
  const lateBy = ((now - record.expiresAt) / 1000).toFixed(3);
  sb.log.count(provider, 'expiredTokenCalls', now, () => ({
    grantId: grant.id,
    accountId: grant.account.id,
    detail: `API call with an access token expired ${lateBy} s ago${record.replacedAt < now ? ' (a newer one exists)' : ''}`,
  }));
  // Lapsed while in use: the grant was used before this token expired, and no newer token was
  // issued before it did (never refreshed in time). Counted once per access token.
  const usedBefore = grant.lastApiUseAt !== null && grant.lastApiUseAt < record.expiresAt;
  if (usedBefore && record.replacedAt > record.expiresAt && !record.lapseCounted) {
    record.lapseCounted = true;
    sb.log.count(provider, 'expiredWhileInUse', now, () => ({
      grantId: grant.id,
      accountId: grant.account.id,
      detail: `access token lapsed at ${new Date(record.expiresAt).toISOString()} while in use (last used ${new Date(grant.lastApiUseAt!).toISOString()}); ${record.replacedAt === Infinity ? 'not refreshed since' : `refreshed only at ${new Date(record.replacedAt).toISOString()}`}`,
    }));
  }
  return 'expired';
}
