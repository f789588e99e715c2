// Revocation, where the catalogue says the provider offers it: RFC 7009 endpoints (Google without
// client authentication, Discord with it) and GitHub's DELETE /applications/{client_id}/grant.
// Revoking any token of a grant revokes the whole family, as the real servers do.
import { PROVIDER_KEYS, type ProviderKey, providerSpec } from '@conduit/core';
import type { FastifyInstance } from 'fastify';
import { enactFault } from '../faults.ts';
import { formFields } from '../http.ts';
import type { SandboxState } from '../state.ts';
import { presentedCredentials } from './clients.ts';

export function registerRevokeRoutes(app: FastifyInstance, sb: SandboxState): void {
  const githubPaths = new Map<string, ProviderKey[]>();
  for (const provider of PROVIDER_KEYS) {
    const spec = providerSpec(provider).revocation;
    if (spec.kind === 'rfc7009') {
      app.post(spec.sandboxPath, async (req, reply) => {
        // The revocation's own faults, then the token endpoint's: the same server.
        for (const endpoint of ['revoke', 'token'] as const) {
          const fault = sb.faults.roll(provider, endpoint);
          const hooks = sb.faultHooks(provider, 'token', `${provider}|revoke`);
          if (fault && (await enactFault(fault, reply, hooks)) === 'answered') return reply;
        }
        const body = formFields(req.body);
        if (spec.clientAuth === 'client_id') {
          // Twitch: the client names itself in the form, with no secret.
          if (sb.clients.get(body.client_id)?.provider !== provider) {
            return reply.code(404).send({ status: 404, message: 'client does not exist' });
          }
        } else if (spec.clientAuth !== 'none') {
          const check = sb.clients.check(provider, presentedCredentials(req.headers.authorization, body));
          if (check !== 'ok') return reply.code(401).send({ error: 'invalid_client' });
        }
        if (body.token === undefined) return reply.code(400).send({ error: 'invalid_request' });
        const grant = sb.grants.byRefreshToken(body.token) ?? sb.grants.byAccessToken(body.token)?.grant;
        if (grant?.provider === provider) sb.grants.revoke(grant, 'revoked_by_client', Date.now());
        // RFC 7009 §2.2: an unknown or already invalid token is answered 200 as well.
        return reply
          .code(200)
          .send(providerSpec(provider).sandbox.okField ? { ok: true, revoked: true } : {});
      });
    } else if (spec.kind === 'github_grant') {
      const path = spec.sandboxPath.replace('{client_id}', ':clientId');
      githubPaths.set(path, [...(githubPaths.get(path) ?? []), provider]);
    }
  }
  for (const [path, candidates] of githubPaths) {
    app.delete<{ Params: { clientId: string } }>(path, async (req, reply) => {
      const creds = presentedCredentials(req.headers.authorization, {});
      const provider = sb.clients.providerOf(creds.clientId, candidates);
      const fault = sb.faults.roll(provider, 'revoke');
      // GitHub's REST API answers it: rate limits look like the API's.
      const hooks = sb.faultHooks(provider, 'api', `${provider}|revoke`);
      if (fault && (await enactFault(fault, reply, hooks)) === 'answered') return reply;
      // This API takes Basic auth only, whatever the token endpoint accepts.
      const client = sb.clients.get(creds.clientId);
      const authentic =
        creds.style === 'basic' && client?.provider === provider && client.secret === creds.secret;
      if (creds.clientId !== req.params.clientId || !authentic) {
        return reply.code(401).send({ message: 'Requires authentication' });
      }
      const token = (req.body as { access_token?: unknown } | undefined)?.access_token;
      const grant = typeof token === 'string' ? sb.grants.byAccessToken(token)?.grant : undefined;
      if (!grant || grant.provider !== provider) return reply.code(404).send({ message: 'Not Found' });
      sb.grants.revoke(grant, 'revoked_by_client', Date.now());
      return reply.code(204).send();
    });
  }
}
