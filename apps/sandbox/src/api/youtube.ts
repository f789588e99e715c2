// YouTube Data API v3, the two reads the seeds' extraction example makes: the signed-in user's
// channel (GET /youtube/v3/channels?mine=true) and a playlist's items. Shapes are the real ones,
// trimmed; the data is derived from the account, so it is the same on every run. Google's API
// base in the sandbox is shared by every Google product; a token without the youtube.readonly
// scope gets YouTube's 403 insufficientPermissions.
import { PROVIDERS } from '@conduit/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Grant } from '../grants/store.ts';
import type { SandboxState } from '../state.ts';
import { guardApi } from './guard.ts';

const SCOPE = 'https://www.googleapis.com/auth/youtube.readonly';
const VIDEOS = 5;

function channelOf(grant: Grant) {
  const id = `UC${Buffer.from(grant.account.id).toString('base64url').padEnd(22, 'x').slice(0, 22)}`;
  return {
    kind: 'youtube#channel',
    id,
    snippet: {
      title: grant.account.name,
      description: '',
      customUrl: `@${grant.account.email.split('@')[0]}`,
    },
    contentDetails: { relatedPlaylists: { uploads: `UU${id.slice(2)}` } },
    statistics: {
      viewCount: '1200',
      subscriberCount: '42',
      hiddenSubscriberCount: false,
      videoCount: String(VIDEOS),
    },
  };
}

function insufficientScope(reply: FastifyReply) {
  return reply.code(403).send({
    error: {
      code: 403,
      message: 'Request had insufficient authentication scopes.',
      errors: [{ message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' }],
      status: 'PERMISSION_DENIED',
    },
  });
}

export function registerYouTubeRoutes(app: FastifyInstance, sb: SandboxState): void {
  const base = `${PROVIDERS.google.sandboxPaths.apiBaseUrl}/youtube/v3`;

  app.get<{ Querystring: { mine?: string; part?: string } }>(`${base}/channels`, async (req, reply) => {
    const grant = await guardApi(sb, ['google'], req, reply);
    if (!grant) return reply;
    if (!grant.scope.includes(SCOPE)) return insufficientScope(reply);
    const items = req.query.mine === 'true' ? [channelOf(grant)] : [];
    return reply.send({
      kind: 'youtube#channelListResponse',
      pageInfo: { totalResults: items.length, resultsPerPage: 5 },
      items,
    });
  });

  app.get<{ Querystring: { playlistId?: string } }>(`${base}/playlistItems`, async (req, reply) => {
    const grant = await guardApi(sb, ['google'], req, reply);
    if (!grant) return reply;
    if (!grant.scope.includes(SCOPE)) return insufficientScope(reply);
    const channel = channelOf(grant);
    if (req.query.playlistId !== channel.contentDetails.relatedPlaylists.uploads) {
      return reply.code(404).send({
        error: {
          code: 404,
          message: "The playlist identified with the request's playlistId parameter cannot be found.",
          status: 'NOT_FOUND',
        },
      });
    }
    const items = Array.from({ length: VIDEOS }, (_, i) => ({
      kind: 'youtube#playlistItem',
      id: `${channel.id}-${i}`,
      snippet: {
        title: `Video ${i + 1} of ${grant.account.name}`,
        publishedAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
        resourceId: { kind: 'youtube#video', videoId: `v${i}${grant.account.id}`.slice(0, 11) },
      },
    }));
    return reply.send({
      kind: 'youtube#playlistItemListResponse',
      pageInfo: { totalResults: VIDEOS, resultsPerPage: 50 },
      items,
    });
  });
}
