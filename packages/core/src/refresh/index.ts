export { decideRefresh } from './decide.ts';
export type { RefreshAction, RefreshContext, RefreshDecision } from './decide.ts';
export { DEFAULT_RETRY_POLICY, backoffDelay, defineRetryPolicy } from './policy.ts';
export type { RetryPolicy } from './policy.ts';
export type { TokenEndpointOutcome, TokenEndpointOutcomeKind } from './outcome.ts';
export { REFRESH_LIFETIME_SHARE, isRefreshDue, refreshDueAt, refreshLeadMs } from './due.ts';
export type { DueInput } from './due.ts';
