// Seed example 2, rewritten: extract a user's YouTube channel and its latest uploads. Conduit's
// proxy injects the Google token (a 401 is refreshed and retried there), so the app never
// handles the token at all.
import type { ConduitClient } from '@conduit/client';

export interface YouTubeExtract {
  channelId: string;
  title: string;
  subscribers: number;
  uploads: Array<{ videoId: string; title: string; publishedAt: string }>;
}

export async function extractYouTube(conduit: ConduitClient, ownerId: string): Promise<YouTubeExtract> {
  const [google] = await conduit.listConnections({ ownerId, provider: 'google' });
  if (google === undefined)
    throw new Error(`${ownerId} has not connected Google (startConnect with products: ["youtube"])`);
  const channels = await getJson<{
    items: Array<{
      id: string;
      snippet: { title: string };
      statistics: { subscriberCount: string };
      contentDetails: { relatedPlaylists: { uploads: string } };
    }>;
  }>(conduit, google.id, 'youtube/v3/channels?part=snippet,statistics,contentDetails&mine=true');
  const channel = channels.items[0];
  if (channel === undefined) throw new Error('the Google account has no YouTube channel');
  const uploads = await getJson<{
    items: Array<{ snippet: { title: string; publishedAt: string; resourceId: { videoId: string } } }>;
  }>(
    conduit,
    google.id,
    `youtube/v3/playlistItems?part=snippet&maxResults=50&playlistId=${encodeURIComponent(channel.contentDetails.relatedPlaylists.uploads)}`,
  );
  return {
    channelId: channel.id,
    title: channel.snippet.title,
    subscribers: Number(channel.statistics.subscriberCount),
    uploads: uploads.items.map((i) => ({
      videoId: i.snippet.resourceId.videoId,
      title: i.snippet.title,
      publishedAt: i.snippet.publishedAt,
    })),
  };
}

async function getJson<T>(conduit: ConduitClient, connectionId: string, path: string): Promise<T> {
  const res = await conduit.proxy(connectionId, path);
  if (!res.ok) throw new Error(`YouTube answered ${res.status} to ${path.split('?')[0]}`);
  return (await res.json()) as T;
}
