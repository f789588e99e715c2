// The consent screen, auto-answered: 302 back to redirect_uri with code and state, or with
// error=access_denied when asked (`sandbox_deny=1`, or POST /_sandbox/consent). Like the real
// servers, an unknown client or a bad redirect_uri is an error page, never a redirect.
import { type ProviderKey, providerSpec } from '@conduit/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { enactFault } from '../faults.ts';
import { seedPastMeetings } from '../fathom/recordings.ts';
import { formFields, send, type WireAnswer } from '../http.ts';
import { clientKey } from '../rate-limit.ts';
import type { SandboxState } from '../state.ts';
import { CODE_LIFETIME_MS } from './codes.ts';
import { providersByPath } from './paths.ts';

/** What each dialect appends to the redirect when the user says no; RFC 6749's bare code otherwise. */
const DENIALS: Readonly<Record<string, Record<string, string>>> = {
  fathom: {
    error: 'access_denied',
    error_description: 'The resource owner or authorization server denied the request.',
  },
  spotify: { error: 'access_denied' },
  google: { error: 'access_denied' },
  discord: {
    error: 'access_denied',
    error_description: 'The resource owner or authorization server denied the request',
  },
  github: {
    error: 'access_denied',
    error_description: 'The user has denied your application access.',
    error_uri:
      'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied',
  },
};

export function registerAuthorizeRoutes(app: FastifyInstance, sb: SandboxState): void {
  for (const [path, candidates] of providersByPath('authorizeUrl')) {
    app.get(path, (req, reply) => authorize(sb, candidates, req, reply));
  }
}

async function authorize(
  sb: SandboxState,
  candidates: readonly ProviderKey[],
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const q = formFields(req.query);
  const provider = sb.clients.providerOf(q.client_id, candidates);
  const client = sb.clients.get(q.client_id);
  if (!client || client.provider !== provider) {
    return send(
      reply,
      errorPage(400, `Unknown client_id "${q.client_id ?? ''}": this application is not registered.`),
    );
  }
  const redirectUri = q.redirect_uri;
  if (redirectUri === undefined || !sb.clients.redirectAllowed(client, redirectUri)) {
    return send(
      reply,
      errorPage(400, `redirect_uri "${redirectUri ?? ''}" is not registered for this application.`),
    );
  }
  const fault = sb.faults.roll(provider, 'authorize');
  if (fault) {
    const hooks = sb.faultHooks(provider, 'authorize', clientKey(provider, client.clientId));
    const outcome = await enactFault(fault, reply, hooks);
    if (outcome === 'answered') return reply;
  }
  const back = (params: Record<string, string | undefined>): FastifyReply =>
    reply.redirect(withParams(redirectUri, { ...params, state: q.state }), 302);

  if (q.response_type !== 'code') {
    return back({ error: 'unsupported_response_type', error_description: 'response_type must be "code"' });
  }
  const consent = sb.consent.get(provider);
  if (q.sandbox_deny === '1' || q.sandbox_deny === 'true' || consent.decision === 'deny') {
    return back(DENIALS[providerSpec(provider).sandbox.dialect ?? ''] ?? { error: 'access_denied' });
  }
  let codeChallenge: string | null = null;
  if (providerSpec(provider).pkce && q.code_challenge !== undefined) {
    if ((q.code_challenge_method ?? 'plain') !== 'S256') {
      return back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
    }
    codeChallenge = q.code_challenge;
  }
  const email = q.sandbox_email ?? q.login_hint ?? consent.email;
  const { account, created } = sb.accounts.resolve(provider, email);
  // A newcomer's Fathom account has recorded a few meetings already, as a real one would have.
  if (created && provider === 'fathom' && sb.options.newAccountMeetings > 0) {
    seedPastMeetings(sb, { account }, sb.options.newAccountMeetings, 14, Date.now());
  }
  const code = sb.codes.issue({
    provider,
    clientId: client.clientId,
    redirectUri,
    scope: q.scope ? q.scope.split(/[ ,]+/).filter(Boolean) : [...providerSpec(provider).scopes.default],
    account,
    codeChallenge,
    expiresAt: Date.now() + CODE_LIFETIME_MS,
  });
  return back({ code });
}

function withParams(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

function errorPage(status: number, message: string): WireAnswer {
  return {
    status,
    contentType: 'text/html; charset=utf-8',
    body: `<!doctype html><html><head><title>Authorization error</title></head><body><h1>Authorization error</h1><p>${escapeHtml(message)}</p></body></html>`,
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
