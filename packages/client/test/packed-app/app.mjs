// An application outside the repository, with only the packed @conduit/client installed: it
// connects a user (the consent page is answered the way a browser would), gets a fresh token,
// calls Fathom through the proxy, syncs and reads the user's meetings. Prints what it saw as JSON
// (a hash of the token, never the token).
/* global process, fetch, URL */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConduitClient, NotFoundError } from '@conduit/client';

const conduit = new ConduitClient({ baseUrl: process.env.CONDUIT_URL, apiKey: process.env.CONDUIT_API_KEY });
const ownerId = process.env.OWNER_ID;

// 1. Connect: the app asks for a consent URL and opens it for the user.
const { authUrl } = await conduit.startConnect('fathom', { ownerId });
const consent = new URL(authUrl);
consent.searchParams.set('sandbox_email', process.env.USER_EMAIL);
const granted = await fetch(consent, { redirect: 'manual' });
await (await fetch(granted.headers.get('location'), { redirect: 'manual' })).text();
const [connection] = await conduit.listConnections({ ownerId, provider: 'fathom' });

// 2. A fresh token, the way the seeds ask for one: by user and provider.
const token = await conduit.getAccessToken({ ownerId, provider: 'fathom' });

// 3. The provider's API through the proxy, token injected.
const proxied = await conduit.proxy(connection.id, 'meetings?include_transcript=false');
const proxiedBody = await proxied.json();

// 4. The synced meetings.
await conduit.sync(connection.id, { mode: 'full' });
let page = { items: [] };
for (let i = 0; i < 200 && page.items.length === 0; i++) {
  page = await conduit.listMeetings(connection.id);
  if (page.items.length === 0) await sleep(100);
}
const meeting = page.items.length > 0 ? await conduit.getMeeting(page.items[0].id) : null;

// 5. Errors are typed.
let notFound = null;
try {
  await conduit.getAccessToken('00000000-0000-4000-8000-000000000000');
} catch (err) {
  notFound = err instanceof NotFoundError ? err.code : String(err);
}

process.stdout.write(
  `${JSON.stringify({
    connectionId: connection.id,
    status: connection.status,
    tokenSha256: createHash('sha256').update(token.accessToken).digest('hex'),
    expiresAt: token.expiresAt?.toISOString() ?? null,
    proxiedStatus: proxied.status,
    proxiedItems: proxiedBody.items?.length ?? null,
    meetings: page.items.length,
    meetingTitle: meeting?.title ?? null,
    notFound,
  })}\n`,
);
