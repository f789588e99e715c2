// GET /v1/connect/:provider/callback — where the provider sends the user's browser back. The
// state is consumed first (unknown, expired, replayed, forged or another provider's: refused,
// nothing changed); then the user's answer, the code exchange, the account, the connection.
// Request logging is off below warn here: the query carries the authorization code.
import type { FastifyInstance } from 'fastify';
import type { StateRefusal } from '@conduit/db';
import { sendConnectResult, type ConnectResult } from './connect-result.ts';
import { enabledProvider, type ConnectDeps } from './deps.ts';
import { hashState } from './oauth-secrets.ts';
import { storeConnection } from './store-connection.ts';

interface CallbackQuery {
  state?: string;
  code?: string;
  error?: string;
  error_description?: string;
}

const querySchema = {
  type: 'object',
  properties: {
    state: { type: 'string', maxLength: 512 },
    code: { type: 'string', maxLength: 4096 },
    error: { type: 'string', maxLength: 128 },
    error_description: { type: 'string', maxLength: 1024 },
  },
} as const;

const REFUSALS: Readonly<Record<StateRefusal, string>> = {
  unknown: 'This sign-in link is not one Conduit issued (it may have been altered). Start connecting again.',
  expired: 'This sign-in link has expired. Start connecting again.',
  already_used: 'This sign-in link was already used. Start connecting again.',
  other_provider: 'This sign-in link was issued for another provider. Start connecting again.',
};

export function registerCallbackRoute(app: FastifyInstance, deps: ConnectDeps): void {
  const { ctx } = deps;
  app.get<{ Params: { provider: string }; Querystring: CallbackQuery }>(
    '/v1/connect/:provider/callback',
    {
      logLevel: 'warn',
      schema: { querystring: querySchema },
      // The popup posts its result to the app that opened it, on another origin: it must keep
      // its opener (helmet's default same-origin COOP would cut it).
      helmet: { crossOriginOpenerPolicy: { policy: 'unsafe-none' } },
    },
    async (req, reply) => {
      const result = await callback(req.params.provider, req.query);
      return sendConnectResult(req, reply, result, ctx.config.api.appOrigin);
    },
  );

  async function callback(name: string, q: CallbackQuery): Promise<ConnectResult> {
    const provider = enabledProvider(ctx, name);
    const refused = (error: string, detail: string, httpStatus = 400): ConnectResult => ({
      status: 'error',
      provider: provider ?? name.slice(0, 40),
      error,
      detail,
      httpStatus,
    });
    if (provider === undefined) return refused('unknown_provider', 'This provider is not enabled.', 404);
    if (!q.state) return refused('invalid_state', 'The provider sent no state back. Start connecting again.');
    const consumed = await deps.states.consume(hashState(q.state), provider);
    if (!consumed.ok) return refused('invalid_state', REFUSALS[consumed.reason]);
    const st = consumed.state;
    const back = { provider, returnTo: st.returnTo };

    if (q.error !== undefined) {
      const denied = q.error === 'access_denied';
      return {
        ...back,
        status: denied ? 'denied' : 'error',
        error: q.error.replace(/[^\w.-]/g, '_'),
        detail: denied
          ? 'Access was not granted. You can connect again at any time.'
          : `The provider refused the request (${q.error.replace(/[^\w.-]/g, '_')}).`,
        httpStatus: denied ? 200 : 400,
      };
    }
    if (!q.code)
      return {
        ...back,
        status: 'error',
        error: 'missing_code',
        detail: 'The provider sent no code back.',
        httpStatus: 400,
      };

    const tokens = await deps.tokens.exchangeCode(provider, {
      code: q.code,
      redirectUri: st.redirectUri,
      ...(st.codeVerifierEnc !== null && { codeVerifier: ctx.vault.decrypt(st.codeVerifierEnc) }),
    });
    if (tokens.kind !== 'tokens') {
      ctx.logger.warn({ provider, outcome: tokens.kind }, 'connect: the code exchange failed');
      const ours = tokens.kind === 'invalid_grant' || tokens.kind === 'rejected';
      return {
        ...back,
        status: 'error',
        error: 'exchange_failed',
        detail: ours
          ? 'The provider did not accept the sign-in (the code was refused). Start connecting again.'
          : 'The provider could not be reached to finish signing in. Try again in a moment.',
        httpStatus: ours ? 400 : 502,
      };
    }
    const who = await deps.identity.identify(provider, tokens.accessToken);
    if (who.outcome.kind !== 'ok') {
      ctx.logger.warn(
        { provider, outcome: who.outcome.kind },
        'connect: the account could not be identified',
      );
      return {
        ...back,
        status: 'error',
        error: 'identity_failed',
        detail: 'The provider did not say which account this is. Try again in a moment.',
        httpStatus: 502,
      };
    }
    const stored = await storeConnection(deps, {
      provider,
      ownerId: st.ownerId,
      teamId: st.teamId,
      tokens,
      identity: who.outcome.value,
      identityRequests: who.requests,
    });
    ctx.logger.info(
      {
        provider,
        owner: ctx.hashOwner(st.ownerId),
        connectionId: stored.connectionId,
        created: stored.created,
        from: stored.previousStatus,
      },
      stored.created ? 'connect: connected' : 'connect: reconnected',
    );
    return { ...back, status: 'connected', connectionId: stored.connectionId, httpStatus: 200 };
  }
}
