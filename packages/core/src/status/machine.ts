import type { TransitionCause, TransitionCauseKind } from './causes.ts';
import type { ConnectionStatus } from './statuses.ts';
import { CAUSE_TARGETS, describeCause } from './causes.ts';
import { CONNECTION_STATUSES } from './statuses.ts';

/**
 * The one transition table. Besides these edges, a fresh OAuth grant (cause
 * `reconnected`) takes any state — and a connection that does not exist yet — to
 * `connected`: it is the only way out of `needs_reauth` and `disconnected`.
 */
export const STATUS_TRANSITIONS: Readonly<Record<ConnectionStatus, readonly ConnectionStatus[]>> = {
  connected: ['token_expired', 'needs_reauth', 'error', 'disconnected'],
  token_expired: ['connected', 'needs_reauth', 'error', 'disconnected'],
  needs_reauth: ['disconnected'],
  // `connected` once a refresh succeeds after an operator fixed the client credentials.
  error: ['connected', 'needs_reauth', 'disconnected'],
  disconnected: [],
};

export interface TransitionEvent {
  /** `null` for a connection's first status. */
  readonly from: ConnectionStatus | null;
  readonly to: ConnectionStatus;
  readonly reason: string;
  readonly at: Date;
  readonly cause: TransitionCause;
}

export interface InvalidTransition {
  /** `not_allowed`: the table forbids from → to. `cause_mismatch`: the cause cannot lead to `to`. */
  readonly problem: 'not_allowed' | 'cause_mismatch';
  readonly from: ConnectionStatus | null;
  readonly to: ConnectionStatus;
  readonly causeKind: TransitionCauseKind;
  /** Where `from` may go, with any cause (for a new connection: only `connected`). */
  readonly allowedTo: readonly ConnectionStatus[];
  readonly message: string;
}

/**
 * `changed: false` (with `event: null`) is a same-state request such as connected →
 * connected after a refresh: valid, but there is no event to write, because events
 * record status changes and a refresh every hour would otherwise flood the history.
 */
export type TransitionResult =
  | { readonly ok: true; readonly changed: true; readonly event: TransitionEvent }
  | { readonly ok: true; readonly changed: false; readonly event: null }
  | { readonly ok: false; readonly error: InvalidTransition };

export class InvalidTransitionError extends Error {
  override readonly name = 'InvalidTransitionError';
  readonly problem: InvalidTransition['problem'];
  readonly from: ConnectionStatus | null;
  readonly to: ConnectionStatus;
  readonly causeKind: TransitionCauseKind;
  readonly allowedTo: readonly ConnectionStatus[];

  constructor(detail: InvalidTransition) {
    super(detail.message);
    this.problem = detail.problem;
    this.from = detail.from;
    this.to = detail.to;
    this.causeKind = detail.causeKind;
    this.allowedTo = detail.allowedTo;
  }
}

/** Every status reachable from `from`, a fresh grant included. */
export function allowedTargets(from: ConnectionStatus | null): readonly ConnectionStatus[] {
  if (from === null) return ['connected'];
  const table = STATUS_TRANSITIONS[from];
  // Reconnecting is always possible; list it once, in enum order, for readable messages.
  return CONNECTION_STATUSES.filter((s) => s !== from && (s === 'connected' || table.includes(s)));
}

function label(from: ConnectionStatus | null): string {
  return from === null ? 'a new connection' : `"${from}"`;
}

function quoteList(statuses: readonly ConnectionStatus[]): string {
  return statuses.map((s) => `"${s}"`).join(', ');
}

const GRANT = '"connected" through a fresh OAuth grant (cause "reconnected")';

function notAllowedMessage(
  from: ConnectionStatus | null,
  to: ConnectionStatus,
  cause: TransitionCauseKind,
): string {
  const head = `cannot move ${label(from)} to "${to}" (cause "${cause}")`;
  if (from === null) return `${head}: a connection starts as ${GRANT}`;
  const edges = STATUS_TRANSITIONS[from];
  if (edges.length === 0) return `${head}: from "${from}" the only way out is ${GRANT}`;
  const grant = edges.includes('connected') ? '' : `, or to ${GRANT}`;
  return `${head}: from "${from}" it may go to ${quoteList(edges)}${grant}`;
}

function causeMismatchMessage(
  from: ConnectionStatus | null,
  to: ConnectionStatus,
  cause: TransitionCauseKind,
): string {
  const leadsTo = CAUSE_TARGETS[cause];
  const fitting = (Object.keys(CAUSE_TARGETS) as TransitionCauseKind[]).filter(
    (k) => k !== 'operator' && CAUSE_TARGETS[k].includes(to),
  );
  return (
    `cannot move ${label(from)} to "${to}" with cause "${cause}", which leads to ${quoteList(leadsTo)}; ` +
    `pass the cause that explains "${to}" (one of: ${[...fitting, 'operator'].join(', ')})`
  );
}

/**
 * Validates a status change and builds the event to write with it. Pure: the caller
 * writes the event in the same transaction as the status (DESIGN rule 3).
 */
export function transition(
  from: ConnectionStatus | null,
  to: ConnectionStatus,
  cause: TransitionCause,
  at: Date,
): TransitionResult {
  const allowedTo = allowedTargets(from);
  if (!CAUSE_TARGETS[cause.kind].includes(to)) {
    const message = causeMismatchMessage(from, to, cause.kind);
    return {
      ok: false,
      error: { problem: 'cause_mismatch', from, to, causeKind: cause.kind, allowedTo, message },
    };
  }
  if (from === to) return { ok: true, changed: false, event: null };

  const isGrant = cause.kind === 'reconnected';
  const allowed = isGrant || (from !== null && STATUS_TRANSITIONS[from].includes(to));
  if (!allowed) {
    const message = notAllowedMessage(from, to, cause.kind);
    return {
      ok: false,
      error: { problem: 'not_allowed', from, to, causeKind: cause.kind, allowedTo, message },
    };
  }
  return {
    ok: true,
    changed: true,
    event: { from, to, reason: describeCause(cause, from === null), at, cause },
  };
}

/** `transition`, throwing `InvalidTransitionError` instead of returning `ok: false`. */
export function assertTransition(
  from: ConnectionStatus | null,
  to: ConnectionStatus,
  cause: TransitionCause,
  at: Date,
): Extract<TransitionResult, { ok: true }> {
  const result = transition(from, to, cause, at);
  if (!result.ok) throw new InvalidTransitionError(result.error);
  return result;
}
