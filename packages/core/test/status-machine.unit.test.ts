import { describe, expect, it } from 'vitest';
import type { ConnectionStatus, TransitionCause } from '../src/status/index.ts';
import {
  CONNECTION_STATUSES,
  InvalidTransitionError,
  assertTransition,
  isConnectionStatus,
  transition,
} from '../src/status/index.ts';

const AT = new Date('2026-11-21T12:00:00.000Z');

// The specification, written out independently of the implementation's table.
// yes: allowed with its own cause · grant: only through a fresh OAuth grant ·
// no: refused · same: valid, nothing to write.
const MATRIX = `
  from \\ to      connected  token_expired  needs_reauth  error  disconnected
  (new)           grant      no             no            no     no
  connected       same       yes            yes           yes    yes
  token_expired   yes        same           yes           yes    yes
  needs_reauth    grant      no             same          no     yes
  error           yes        no             yes           same   yes
  disconnected    grant      no             no            no     same
`;

type Verdict = 'yes' | 'grant' | 'no' | 'same';

function parseMatrix(
  text: string,
): Array<{ from: ConnectionStatus | null; to: ConnectionStatus; verdict: Verdict }> {
  const [header = '', ...rows] = text.trim().split('\n');
  const columns = header.trim().split(/\s+/).slice(3);
  return rows.flatMap((row) => {
    const [fromCell = '', ...cells] = row.trim().split(/\s+/);
    const from = fromCell === '(new)' ? null : (fromCell as ConnectionStatus);
    return cells.map((verdict, i) => ({
      from,
      to: columns[i] as ConnectionStatus,
      verdict: verdict as Verdict,
    }));
  });
}

// Every cause that explains arriving at each status (besides `operator`, which fits all).
const CAUSES_INTO: Record<ConnectionStatus, TransitionCause[]> = {
  connected: [{ kind: 'refreshed' }],
  token_expired: [{ kind: 'access_token_lapsed' }],
  needs_reauth: [
    { kind: 'refresh_rejected', error: 'invalid_grant', description: 'Refresh token revoked', status: 400 },
    { kind: 'refresh_token_lapsed' },
    { kind: 'unauthorized_api_call', detail: 'GET /meetings' },
  ],
  error: [
    { kind: 'client_rejected', error: 'invalid_client', status: 401 },
    { kind: 'transient_failures_exceeded', since: new Date('2026-11-20T10:00:00Z'), lastError: 'timeout' },
  ],
  disconnected: [{ kind: 'disconnected_by_user' }],
};
const OPERATOR: TransitionCause = { kind: 'operator', note: 'ticket 123' };
const GRANT: TransitionCause = { kind: 'reconnected' };

const name = (s: ConnectionStatus | null): string => s ?? '(new)';

describe('status machine', () => {
  it('statuses match the Prisma enum ConnectionStatus, in order', () => {
    expect(CONNECTION_STATUSES).toEqual([
      'connected',
      'token_expired',
      'needs_reauth',
      'error',
      'disconnected',
    ]);
  });

  it('the specification matrix covers every (from, to) pair, a new connection included', () => {
    expect(parseMatrix(MATRIX)).toHaveLength((CONNECTION_STATUSES.length + 1) * CONNECTION_STATUSES.length);
  });

  for (const { from, to, verdict } of parseMatrix(MATRIX)) {
    describe(`${name(from)} → ${to} is "${verdict}"`, () => {
      for (const cause of [...CAUSES_INTO[to], OPERATOR]) {
        it(`${name(from)} → ${to} with cause ${cause.kind} follows the matrix`, () => {
          const result = transition(from, to, cause, AT);
          switch (verdict) {
            case 'yes':
              expect(result).toEqual({
                ok: true,
                changed: true,
                event: expect.objectContaining({ from, to, at: AT }),
              });
              break;
            case 'same':
              expect(result).toEqual({ ok: true, changed: false, event: null });
              break;
            case 'grant':
            case 'no':
              expect(result.ok).toBe(false);
              if (!result.ok) {
                expect(result.error).toMatchObject({
                  problem: 'not_allowed',
                  from,
                  to,
                  causeKind: cause.kind,
                });
              }
              break;
          }
        });
      }

      if (to === 'connected') {
        it(`${name(from)} → connected through a fresh OAuth grant is always accepted`, () => {
          const result = transition(from, 'connected', GRANT, AT);
          if (verdict === 'same') expect(result).toEqual({ ok: true, changed: false, event: null });
          else
            expect(result).toMatchObject({
              ok: true,
              changed: true,
              event: { from, to: 'connected', at: AT },
            });
        });
      }
    });
  }
});

describe('status machine › reconnecting', () => {
  it.each([null, ...CONNECTION_STATUSES])('a fresh OAuth grant takes %s to connected', (from) => {
    const result = assertTransition(from, 'connected', GRANT, AT);
    expect(result.ok).toBe(true);
    if (from === 'connected') expect(result.event).toBeNull();
    else expect(result.event?.to).toBe('connected');
  });

  it('a first connection reads "connected", a later one "reconnected"', () => {
    expect(assertTransition(null, 'connected', GRANT, AT).event?.reason).toBe(
      'connected through an OAuth grant',
    );
    expect(assertTransition('disconnected', 'connected', GRANT, AT).event?.reason).toBe(
      'reconnected through a fresh OAuth grant',
    );
  });

  it('a successful refresh cannot bring back a needs_reauth connection: only the user can', () => {
    const result = transition('needs_reauth', 'connected', { kind: 'refreshed' }, AT);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toBe(
        'cannot move "needs_reauth" to "connected" (cause "refreshed"): from "needs_reauth" it may go to "disconnected", or to "connected" through a fresh OAuth grant (cause "reconnected")',
      );
    }
  });
});

describe('status machine › causes must fit the target', () => {
  it.each([
    { to: 'needs_reauth', cause: { kind: 'refreshed' } },
    { to: 'needs_reauth', cause: { kind: 'reconnected' } },
    { to: 'error', cause: { kind: 'access_token_lapsed' } },
    { to: 'connected', cause: { kind: 'disconnected_by_user' } },
    { to: 'needs_reauth', cause: { kind: 'client_rejected', error: 'invalid_client' } },
  ] satisfies Array<{ to: ConnectionStatus; cause: TransitionCause }>)(
    'cause $cause.kind cannot lead to $to',
    ({ to, cause }) => {
      const result = transition('connected', to, cause, AT);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.problem).toBe('cause_mismatch');
    },
  );

  it('a mismatched cause is refused even when nothing would change', () => {
    const result = transition('needs_reauth', 'needs_reauth', { kind: 'refreshed' }, AT);
    expect(result.ok).toBe(false);
  });

  it('a mismatch message names the cause, where it leads and the causes that fit', () => {
    const result = transition('connected', 'needs_reauth', { kind: 'refreshed' }, AT);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toBe(
        'cannot move "connected" to "needs_reauth" with cause "refreshed", which leads to "connected"; pass the cause that explains "needs_reauth" (one of: refresh_rejected, refresh_token_lapsed, unauthorized_api_call, operator)',
      );
    }
  });
});

describe('status machine › errors', () => {
  it('a refused move says from, to, and what is allowed', () => {
    const result = transition('error', 'token_expired', { kind: 'access_token_lapsed' }, AT);
    expect(result).toEqual({
      ok: false,
      error: {
        problem: 'not_allowed',
        from: 'error',
        to: 'token_expired',
        causeKind: 'access_token_lapsed',
        allowedTo: ['connected', 'needs_reauth', 'disconnected'],
        message:
          'cannot move "error" to "token_expired" (cause "access_token_lapsed"): from "error" it may go to "connected", "needs_reauth", "disconnected"',
      },
    });
  });

  it('a disconnected connection only leaves through a fresh grant, and says so', () => {
    const result = transition(
      'disconnected',
      'error',
      { kind: 'client_rejected', error: 'invalid_client' },
      AT,
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.allowedTo).toEqual(['connected']);
      expect(result.error.message).toBe(
        'cannot move "disconnected" to "error" (cause "client_rejected"): from "disconnected" the only way out is "connected" through a fresh OAuth grant (cause "reconnected")',
      );
    }
  });

  it('a new connection must start through an OAuth grant', () => {
    const result = transition(null, 'connected', { kind: 'refreshed' }, AT);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toBe(
        'cannot move a new connection to "connected" (cause "refreshed"): a connection starts as "connected" through a fresh OAuth grant (cause "reconnected")',
      );
    }
  });

  it('assertTransition throws InvalidTransitionError carrying the same facts', () => {
    const attempt = () => assertTransition('needs_reauth', 'error', { kind: 'operator', note: 'x' }, AT);
    expect(attempt).toThrow(InvalidTransitionError);
    try {
      attempt();
    } catch (error) {
      expect(error).toMatchObject({
        name: 'InvalidTransitionError',
        problem: 'not_allowed',
        from: 'needs_reauth',
        to: 'error',
        causeKind: 'operator',
        allowedTo: ['connected', 'disconnected'],
      });
    }
  });
});

describe('status machine › reasons are readable', () => {
  const cases = [
    [{ kind: 'refreshed' }, 'token_expired', 'connected', 'access token refreshed'],
    [
      { kind: 'access_token_lapsed' },
      'connected',
      'token_expired',
      'access token expired before a refresh succeeded',
    ],
    [
      {
        kind: 'refresh_rejected',
        error: 'invalid_grant',
        description: 'Refresh token revoked',
        status: 400,
      },
      'connected',
      'needs_reauth',
      'provider rejected the refresh token (HTTP 400 invalid_grant: Refresh token revoked); the user must reconnect',
    ],
    [
      { kind: 'client_rejected', error: 'invalid_client', status: 401 },
      'connected',
      'error',
      'provider rejected our client credentials (HTTP 401 invalid_client); an operator must fix the client id/secret',
    ],
    [
      {
        kind: 'transient_failures_exceeded',
        since: new Date('2026-11-20T10:00:00.000Z'),
        lastError: 'timeout: 10 s',
      },
      'token_expired',
      'error',
      'token refresh has failed transiently since 2026-11-20T10:00:00.000Z (last error: timeout: 10 s)',
    ],
    [{ kind: 'disconnected_by_user' }, 'connected', 'disconnected', 'disconnected by the user'],
    [
      { kind: 'refresh_token_lapsed' },
      'connected',
      'needs_reauth',
      'refresh token reached its expiry date; the user must reconnect',
    ],
    [
      { kind: 'unauthorized_api_call' },
      'connected',
      'needs_reauth',
      'provider API refused the access token (401); the user must reconnect',
    ],
    [
      { kind: 'operator', note: 'client secret rotated' },
      'error',
      'connected',
      'set by an operator: client secret rotated',
    ],
  ] satisfies Array<[TransitionCause, ConnectionStatus, ConnectionStatus, string]>;
  for (const [cause, from, to, reason] of cases) {
    it(`${cause.kind} (${from} → ${to}) is recorded as "${reason}"`, () => {
      expect(assertTransition(from, to, cause, AT).event).toEqual({ from, to, reason, at: AT, cause });
    });
  }

  it('isConnectionStatus accepts the enum names and nothing else', () => {
    expect(CONNECTION_STATUSES.every(isConnectionStatus)).toBe(true);
    expect(['Connected', 'expired', '', null, 1].some(isConnectionStatus)).toBe(false);
  });
});
