import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/index.ts';
import { api, control, seedGrant, type SeededGrant } from './helpers.ts';

interface Meeting {
  recording_id: number;
  created_at: string;
  title: string;
  calendar_invitees: { name: string; email: string; email_domain: string; is_external: boolean }[];
  recorded_by: { name: string; email: string; email_domain: string; team: string };
  [field: string]: unknown;
}
interface Page {
  limit: number;
  next_cursor: string | null;
  items: Meeting[];
}

let sb: Sandbox;
let owner: SeededGrant;
beforeAll(async () => {
  sb = await startSandbox({ seed: 7 });
  owner = await seedGrant(sb, 'fathom', { email: 'owner@acme.test' });
  await control(sb, 'POST', '/fathom/meetings', { grantId: owner.grantId, count: 25, days: 20 });
});
afterAll(() => sb.close());

async function allPages(token: string, query = ''): Promise<Meeting[][]> {
  const pages: Meeting[][] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams(query);
    if (cursor) q.set('cursor', cursor);
    const res = await api<Page>(sb, 'fathom', `/meetings?${q}`, token);
    expect(res.status).toBe(200);
    pages.push(res.body.items);
    cursor = res.body.next_cursor;
  } while (cursor);
  return pages;
}

describe('Fathom API › GET /meetings', () => {
  it('pages with next_cursor until it is null, newest first, each meeting once', async () => {
    const pages = await allPages(owner.accessToken);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    const items = pages.flat();
    expect(new Set(items.map((m) => m.recording_id)).size).toBe(25);
    const times = items.map((m) => Date.parse(m.created_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const first = await api<Page>(sb, 'fathom', '/meetings', owner.accessToken);
    expect(first.body.limit).toBe(10);
  });

  it('created_after keeps only meetings created strictly later', async () => {
    const items = (await allPages(owner.accessToken)).flat();
    const pivot = items[12]!.created_at;
    const later = (await allPages(owner.accessToken, `created_after=${encodeURIComponent(pivot)}`)).flat();
    expect(later.length).toBe(items.filter((m) => Date.parse(m.created_at) > Date.parse(pivot)).length);
    expect(later.every((m) => Date.parse(m.created_at) > Date.parse(pivot))).toBe(true);
  });

  it('meetings carry the documented fields, recorded by the account, with internal and external invitees', async () => {
    const [meeting] = (await api<Page>(sb, 'fathom', '/meetings', owner.accessToken)).body.items;
    expect(Object.keys(meeting!).sort()).toEqual(
      [
        'title',
        'meeting_title',
        'recording_id',
        'url',
        'share_url',
        'created_at',
        'scheduled_start_time',
        'scheduled_end_time',
        'recording_start_time',
        'recording_end_time',
        'transcript_language',
        'calendar_invitees',
        'recorded_by',
      ].sort(),
    );
    expect(meeting!.recorded_by).toMatchObject({ email: 'owner@acme.test', email_domain: 'acme.test' });
    expect(meeting!.calendar_invitees.map((i) => i.email)).toContain('owner@acme.test');
    for (const invitee of meeting!.calendar_invitees)
      expect(invitee.is_external).toBe(invitee.email_domain !== 'acme.test');
    expect(Number.isInteger(meeting!.recording_id)).toBe(true);
  });

  it('include_transcript is not available to OAuth apps', async () => {
    const res = await api(sb, 'fathom', '/meetings?include_transcript=true', owner.accessToken);
    expect(res.status).toBe(400);
  });

  it('another account sees none of these meetings', async () => {
    const other = await seedGrant(sb, 'fathom');
    const res = await api<Page>(sb, 'fathom', '/meetings', other.accessToken);
    expect(res.body).toEqual({ limit: 10, next_cursor: null, items: [] });
  });
});

describe('Fathom API › transcript, summary, teams', () => {
  it('GET /recordings/{id}/transcript: speakers, text and HH:MM:SS timestamps', async () => {
    const [meeting] = (await api<Page>(sb, 'fathom', '/meetings', owner.accessToken)).body.items;
    const res = await api<{
      transcript: {
        speaker: { display_name: string; matched_calendar_invitee_email: string | null };
        text: string;
        timestamp: string;
      }[];
    }>(sb, 'fathom', `/recordings/${meeting!.recording_id}/transcript`, owner.accessToken);
    expect(res.status).toBe(200);
    expect(res.body.transcript.length).toBeGreaterThan(5);
    for (const line of res.body.transcript) {
      expect(line.timestamp).toMatch(/^\d\d:\d\d:\d\d$/);
      expect(meeting!.calendar_invitees.map((i) => i.name)).toContain(line.speaker.display_name);
    }
  });

  it('GET /recordings/{id}/summary: {template_name, markdown_formatted} or null; 404 for other accounts', async () => {
    const [meeting] = (await api<Page>(sb, 'fathom', '/meetings', owner.accessToken)).body.items;
    const res = await api<{ summary: { template_name: string; markdown_formatted: string } | null }>(
      sb,
      'fathom',
      `/recordings/${meeting!.recording_id}/summary`,
      owner.accessToken,
    );
    expect(res.status).toBe(200);
    if (res.body.summary) expect(res.body.summary.markdown_formatted).toContain('##');
    const stranger = await seedGrant(sb, 'fathom');
    expect(
      (await api(sb, 'fathom', `/recordings/${meeting!.recording_id}/summary`, stranger.accessToken)).status,
    ).toBe(404);
  });

  it('GET /teams and /team_members list the account’s team', async () => {
    const teams = await api<{ items: { name: string }[] }>(sb, 'fathom', '/teams', owner.accessToken);
    expect(teams.body.items).toHaveLength(1);
    const members = await api<{ items: { email: string }[] }>(
      sb,
      'fathom',
      '/team_members',
      owner.accessToken,
    );
    expect(members.body.items.map((m) => m.email)).toContain('owner@acme.test');
    expect(members.body.items.every((m) => m.email.endsWith('@acme.test'))).toBe(true);
  });

  it('the generator is reproducible from the seed', async () => {
    const again = await startSandbox({ seed: 7 });
    try {
      const g = await seedGrant(again, 'fathom', { email: 'owner@acme.test' });
      await control(again, 'POST', '/fathom/meetings', { grantId: g.grantId, count: 25, days: 20 });
      const a = (await api<Page>(sb, 'fathom', '/meetings', owner.accessToken)).body.items;
      const b = (await api<Page>(again, 'fathom', '/meetings', g.accessToken)).body.items;
      expect(b.map((m) => [m.title, m.calendar_invitees])).toEqual(
        a.map((m) => [m.title, m.calendar_invitees]),
      );
    } finally {
      await again.close();
    }
  });
});

describe('Fathom API › webhooks', () => {
  it('POST /webhooks registers a destination and returns a whsec_ secret', async () => {
    const res = await api(sb, 'fathom', '/webhooks', owner.accessToken, {
      method: 'POST',
      json: {
        destination_url: 'https://hooks.example.test/fathom',
        triggered_for: ['my_recordings'],
        include_transcript: true,
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.any(String),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/=]+$/),
      url: 'https://hooks.example.test/fathom',
    });
    expect(
      (await api(sb, 'fathom', `/webhooks/${res.body.id as string}`, owner.accessToken, { method: 'DELETE' }))
        .status,
    ).toBe(204);
  });

  it("lists and reads the account's own webhooks without their secrets; another account sees none", async () => {
    const mine = await seedGrant(sb, 'fathom', { email: 'lister@acme.test' });
    const other = await seedGrant(sb, 'fathom', { email: 'other@acme.test' });
    const created = await api<Record<string, unknown>>(sb, 'fathom', '/webhooks', mine.accessToken, {
      method: 'POST',
      json: {
        destination_url: 'https://hooks.example.test/mine',
        triggered_for: ['my_recordings', 'shared_team_recordings'],
        include_summary: true,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      triggered_for: ['my_recordings', 'shared_team_recordings'],
      include_summary: true,
      include_transcript: false,
      include_action_items: false,
      include_crm_matches: false,
      created_at: expect.any(String),
    });
    const id = created.body.id as string;
    const list = await api<{ items: Record<string, unknown>[] }>(sb, 'fathom', '/webhooks', mine.accessToken);
    expect(list.status).toBe(200);
    expect(list.body.items.map((w) => w.id)).toEqual([id]);
    expect(list.body.items[0]).not.toHaveProperty('secret');
    const one = await api(sb, 'fathom', `/webhooks/${id}`, mine.accessToken);
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty('secret');
    expect(one.text).not.toContain(created.body.secret as string);

    const theirs = await api<{ items: unknown[] }>(sb, 'fathom', '/webhooks', other.accessToken);
    expect(theirs.body.items).toEqual([]);
    expect((await api(sb, 'fathom', `/webhooks/${id}`, other.accessToken)).status).toBe(404);
    expect((await api(sb, 'fathom', `/webhooks/${id}`, other.accessToken, { method: 'DELETE' })).status).toBe(
      404,
    );
    expect((await api(sb, 'fathom', `/webhooks/${id}`, mine.accessToken, { method: 'DELETE' })).status).toBe(
      204,
    );
    expect((await api(sb, 'fathom', `/webhooks/${id}`, mine.accessToken, { method: 'DELETE' })).status).toBe(
      404,
    );
    expect((await api(sb, 'fathom', '/webhooks', undefined)).status).toBe(401);
  });

  it('refuses a registration without triggered_for or without any include_* flag', async () => {
    const noTrigger = await api(sb, 'fathom', '/webhooks', owner.accessToken, {
      method: 'POST',
      json: { destination_url: 'https://hooks.example.test/x', include_summary: true },
    });
    expect(noTrigger.status).toBe(400);
    const noInclude = await api(sb, 'fathom', '/webhooks', owner.accessToken, {
      method: 'POST',
      json: { destination_url: 'https://hooks.example.test/x', triggered_for: ['my_recordings'] },
    });
    expect(noInclude.status).toBe(400);
  });
});

describe('Fathom API › Bearer auth and the per-account limit', () => {
  it('401 with invalid_token for unknown, expired and revoked tokens', async () => {
    const unknown = await api(sb, 'fathom', '/meetings', 'nope');
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is invalid',
    });
    expect(unknown.headers.get('www-authenticate')).toMatch(/^Bearer /);

    const g = await seedGrant(sb, 'fathom');
    await control(sb, 'POST', `/grants/${g.grantId}/expire`);
    expect((await api(sb, 'fathom', '/meetings', g.accessToken)).body).toEqual({
      error: 'invalid_token',
      error_description: 'The access token expired',
    });
    await control(sb, 'POST', `/grants/${g.grantId}/revoke`);
    expect((await api(sb, 'fathom', '/meetings', g.accessToken)).body).toEqual({
      error: 'invalid_token',
      error_description: 'The access token was revoked',
    });
    expect((await api(sb, 'fathom', '/meetings', undefined)).status).toBe(401);
  });

  it('60 calls per 60 s per account, then 429 with RateLimit-Limit/-Remaining/-Reset', async () => {
    const g = await seedGrant(sb, 'fathom');
    const other = await seedGrant(sb, 'fathom');
    let last = await api(sb, 'fathom', '/teams', g.accessToken);
    expect(last.headers.get('ratelimit-limit')).toBe('60');
    expect(last.headers.get('ratelimit-remaining')).toBe('59');
    for (let i = 1; i < 60; i++) last = await api(sb, 'fathom', '/teams', g.accessToken);
    expect(last.status).toBe(200);
    expect(last.headers.get('ratelimit-remaining')).toBe('0');
    const limited = await api(sb, 'fathom', '/teams', g.accessToken);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('ratelimit-limit')).toBe('60');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(60);
    // Per account: another account is unaffected.
    expect((await api(sb, 'fathom', '/teams', other.accessToken)).status).toBe(200);
  });
});
