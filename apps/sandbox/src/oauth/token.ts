// The token endpoint of every provider, one pipeline: read the credentials, tell which
// provider (GitHub's OAuth app and App share a path: the client_id says), note anomalies on
// arrival (early after a 429, a second refresh of a grant in flight), then faults, holds, and
// finally the exchange.
import type { ProviderKey } from '@conduit/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { enactFault, type FaultDecision } from '../faults.ts';
import type { Grant } from '../grants/store.ts';
import { formFields, send, type WireAnswer } from '../http.ts';
import { clientKey } from '../rate-limit.ts';
import type { SandboxState } from '../state.ts';
import { presentedCredentials, type PresentedCredentials } from './clients.ts';
import { tokenError, tokenSuccess } from './dialects.ts';
import { exchangeCode, refreshGrant, type Exchange } from './exchange.ts';
import { providersByPath } from './paths.ts';

export function registerTokenRoutes(app: FastifyInstance, sb: SandboxState): void {
  for (const [path, candidates] of providersByPath('tokenUrl')) {
    app.post(path, (req, reply) => tokenRequest(sb, candidates, req, reply));
  }
}

/** Synchronous when no fault or hold applies: no promise, no microtask on the hot path. */
function tokenRequest(
  sb: SandboxState,
  candidates: readonly ProviderKey[],
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> | undefined {
  const now = Date.now();
  const body = formFields(req.body);
  const creds = presentedCredentials(req.headers.authorization, body);
  const provider = sb.clients.providerOf(creds.clientId, candidates);
  sb.log.traffic(provider).tokenRequests += 1;
  const waitKey = clientKey(provider, creds.clientId);
  sb.noteEarly(provider, waitKey, now, () => ({ clientId: creds.clientId ?? '(none)' }));

  let grant: Grant | undefined;
  if (body.grant_type === 'refresh_token' && body.refresh_token !== undefined) {
    const owner = sb.grants.byRefreshToken(body.refresh_token);
    if (owner?.provider === provider) {
      grant = owner;
      noteRefreshArrival(sb, grant, now);
    }
  }
  const fault = sb.faults.roll(provider, 'token');
  if (!fault && !sb.holds.isHeld(provider, 'token')) {
    try {
      send(reply, answer(sb, provider, creds, body, grant, req.headers.accept, req.headers['user-agent']));
    } finally {
      if (grant) grant.inFlight -= 1;
    }
    return undefined;
  }
  return delayedTokenRequest(sb, { provider, fault, waitKey, creds, body, grant }, req, reply);
}

interface Arrival {
  provider: ProviderKey;
  fault: FaultDecision | null;
  waitKey: string;
  creds: PresentedCredentials;
  body: Readonly<Record<string, string | undefined>>;
  grant: Grant | undefined;
}

async function delayedTokenRequest(
  sb: SandboxState,
  { provider, fault, waitKey, creds, body, grant }: Arrival,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  try {
    if (fault && (await enactFault(fault, reply, sb.faultHooks(provider, 'token', waitKey))) === 'answered') {
      return reply;
    }
    if (sb.holds.isHeld(provider, 'token')) {
      sb.log.traffic(provider).held += 1;
      if ((await sb.holds.park(provider, 'token', reply)) === 'abandoned') return reply;
    }
    // A hold with processAbandoned processes a request whose client has gone: the provider
    // rotates, and its answer is lost on the way (it must show who was left without tokens).
    const clientGone = req.raw.socket.destroyed;
    const refreshesBefore = grant?.refreshes ?? 0;
    const wire = answer(sb, provider, creds, body, grant, req.headers.accept, req.headers['user-agent']);
    if (clientGone && grant && grant.refreshes > refreshesBefore) {
      grant.lastAnswerLost = true;
      sb.log.traffic(provider).answersLost += 1;
    }
    return send(reply, wire);
  } finally {
    if (grant) grant.inFlight -= 1;
  }
}

function noteRefreshArrival(sb: SandboxState, grant: Grant, now: number): void {
  if (grant.inFlight > 0) {
    const inFlight = grant.inFlight;
    sb.log.count(grant.provider, 'concurrentRefreshes', now, () => ({
      grantId: grant.id,
      accountId: grant.account.id,
      clientId: grant.clientId,
      detail: `a refresh arrived while ${inFlight} other refresh${inFlight > 1 ? 'es' : ''} of this grant ${inFlight > 1 ? 'were' : 'was'} in flight`,
    }));
  }
  grant.inFlight += 1;
}

function answer(
  sb: SandboxState,
  provider: ProviderKey,
  creds: PresentedCredentials,
  body: Readonly<Record<string, string | undefined>>,
  grant: Grant | undefined,
  accept: string | undefined,
  client: string | undefined,
): WireAnswer {
  const traffic = sb.log.traffic(provider);
  const now = Date.now();
  const check = sb.clients.check(provider, creds);
  let outcome: Exchange;
  if (check !== 'ok') outcome = { ok: false, failure: check };
  else if (body.grant_type === 'refresh_token')
    outcome = refreshGrant(sb, provider, creds.clientId!, body, grant, now, client);
  else if (body.grant_type === 'authorization_code')
    outcome = exchangeCode(sb, provider, creds.clientId!, body, now);
  else
    outcome = {
      ok: false,
      failure: body.grant_type === undefined ? 'invalid_request' : 'unsupported_grant_type',
    };

  if (!outcome.ok) {
    traffic.tokenErrors += 1;
    return tokenError(provider, outcome.failure, accept);
  }
  if (body.grant_type === 'refresh_token') traffic.refreshes += 1;
  else traffic.codeExchanges += 1;
  return tokenSuccess(provider, outcome.issued, accept);
}
