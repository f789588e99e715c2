// Seed example 1, rewritten against @conduit/client: an app's route that shows the signed-in
// user's Spotify profile. The token comes from Conduit (fresh, cached until just before it
// expires); a 401 from Spotify asks for one forced refresh; a user whose grant is gone gets the
// consent URL to reconnect instead of an error page.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NeedsReauthError, type ConduitClient } from '@conduit/client';

export interface SpotifyRouteOptions {
  /** Spotify's Web API; the sandbox's in tests */
  spotifyApiBase?: string;
  /** who is signed in; a real app reads its session */
  userOf: (req: IncomingMessage) => string | undefined;
}

export function spotifyProfileRoute(conduit: ConduitClient, options: SpotifyRouteOptions) {
  const base = options.spotifyApiBase ?? 'https://api.spotify.com/v1';
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const userId = options.userOf(req);
    if (userId === undefined) return json(res, 401, { error: 'sign in first' });
    const ref = { ownerId: userId, provider: 'spotify' as const };
    try {
      let { accessToken } = await conduit.getAccessToken(ref);
      let answer = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      if (answer.status === 401) {
        ({ accessToken } = await conduit.getAccessToken(ref, { forceRefresh: true }));
        answer = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      }
      const profile = (await answer.json()) as { display_name?: string; email?: string };
      return json(res, answer.status, { name: profile.display_name, email: profile.email });
    } catch (err) {
      if (err instanceof NeedsReauthError || (err as { code?: string }).code === 'not_found') {
        const { authUrl } = await conduit.startConnect('spotify', { ownerId: userId });
        return json(res, 409, { reconnect: authUrl });
      }
      throw err;
    }
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
