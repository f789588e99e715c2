// Fathom's public API for OAuth apps (PROVIDERS.md): Bearer auth, meetings by cursor, transcript
// and summary per recording, team members. Every answer is an ApiOutcome; nothing here throws
// for an HTTP answer. Budgets and retries are the caller's (packages/jobs): this is the wire.
import {
  FathomMeetingsPageSchema,
  FathomTeamMembersSchema,
  FathomSummarySchema,
  FathomTranscriptSchema,
  PROVIDERS,
  parseWith,
  type ApiOutcome,
  type FathomMeetingsPage,
  type FathomSummary,
  type FathomTeamMember,
  type FathomTranscriptLine,
  type ParseResult,
} from '@conduit/core';
import { ApiHttp, type ApiHttpOptions } from '../api/http-get.ts';
import { classifyApiResponse } from '../api/api-response.ts';

export interface FathomClientOptions extends ApiHttpOptions {
  /** The resolved API base, e.g. https://api.fathom.ai/external/v1 or the sandbox's. */
  apiBaseUrl: string;
  /** Wait reported for a 429 without RateLimit-Reset / Retry-After (DESIGN rule 4: 60 s). */
  rateLimitDefaultWaitMs: number;
  now?: () => Date;
}

export interface ListMeetingsQuery {
  /** only meetings created after this instant */
  createdAfter?: Date | undefined;
  /** the `next_cursor` of the previous page */
  cursor?: string | undefined;
}

/** What a Fathom webhook fires for and carries (at least one include_* must be true). */
export interface FathomWebhookSpec {
  destinationUrl: string;
  triggeredFor: string[];
  includeTranscript: boolean;
  includeSummary: boolean;
  includeActionItems: boolean;
  includeCrmMatches: boolean;
}

/** A registered webhook as Fathom lists it (never with its secret). */
export interface FathomWebhook {
  id: string;
  url: string;
}

function webhookOf(raw: unknown): ParseResult<FathomWebhook> {
  if (raw === null || typeof raw !== 'object') return { ok: false, problem: 'the webhook is not an object' };
  const { id, url } = raw as Record<string, unknown>;
  if ((typeof id !== 'string' && typeof id !== 'number') || typeof url !== 'string') {
    return { ok: false, problem: 'the webhook has no id or url' };
  }
  return { ok: true, value: { id: String(id), url } };
}

export interface CallOptions {
  signal?: AbortSignal;
}

export class FathomClient {
  readonly #http: ApiHttp;
  readonly #base: string;
  readonly #rateLimitDefaultWaitMs: number;
  readonly #now: () => Date;

  constructor(options: FathomClientOptions) {
    const base = new URL(options.apiBaseUrl);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new Error(
        `FathomClient: apiBaseUrl must be an http(s) URL; expected e.g. ${PROVIDERS.fathom.endpoints.apiBaseUrl}`,
      );
    }
    this.#base = options.apiBaseUrl.replace(/\/+$/, '');
    this.#http = new ApiHttp(options);
    this.#rateLimitDefaultWaitMs = options.rateLimitDefaultWaitMs;
    this.#now = options.now ?? (() => new Date());
  }

  /** One page of meetings, newest first; page on with `next_cursor` until it is null. */
  listMeetings(
    accessToken: string,
    query: ListMeetingsQuery = {},
    opts: CallOptions = {},
  ): Promise<ApiOutcome<FathomMeetingsPage>> {
    const url = this.#url('/meetings');
    if (query.createdAfter) url.searchParams.set('created_after', query.createdAfter.toISOString());
    if (query.cursor) url.searchParams.set('cursor', query.cursor);
    return this.#get(url, accessToken, opts, (body) => {
      const parsed = parseWith(FathomMeetingsPageSchema, body);
      return parsed.ok
        ? { ok: true, value: { items: parsed.value.items, next_cursor: parsed.value.next_cursor ?? null } }
        : parsed;
    });
  }

  /** 404 while Fathom is still processing the recording. */
  getTranscript(
    accessToken: string,
    recordingId: number,
    opts: CallOptions = {},
  ): Promise<ApiOutcome<FathomTranscriptLine[]>> {
    return this.#get(this.#recording(recordingId, 'transcript'), accessToken, opts, (body) => {
      const parsed = parseWith(FathomTranscriptSchema, body);
      return parsed.ok ? { ok: true, value: parsed.value.transcript } : parsed;
    });
  }

  /** `null` when Fathom has no summary (yet). */
  getSummary(
    accessToken: string,
    recordingId: number,
    opts: CallOptions = {},
  ): Promise<ApiOutcome<FathomSummary>> {
    return this.#get(this.#recording(recordingId, 'summary'), accessToken, opts, (body) => {
      const parsed = parseWith(FathomSummarySchema, body);
      return parsed.ok ? { ok: true, value: parsed.value.summary } : parsed;
    });
  }

  /** Members of the token's team (first page; teams are small). */
  listTeamMembers(accessToken: string, opts: CallOptions = {}): Promise<ApiOutcome<FathomTeamMember[]>> {
    return this.#get(this.#url('/team_members'), accessToken, opts, (body) => {
      const parsed = parseWith(FathomTeamMembersSchema, body);
      return parsed.ok
        ? {
            ok: true,
            value: parsed.value.items.map((m) => ({ name: m.name ?? null, email: m.email ?? null })),
          }
        : parsed;
    });
  }

  /** Registers a webhook for the token's account; the answer holds its secret, this once only. */
  createWebhook(
    accessToken: string,
    spec: FathomWebhookSpec,
    opts: CallOptions = {},
  ): Promise<ApiOutcome<FathomWebhook & { secret: string }>> {
    const body = {
      destination_url: spec.destinationUrl,
      triggered_for: spec.triggeredFor,
      include_transcript: spec.includeTranscript,
      include_summary: spec.includeSummary,
      include_action_items: spec.includeActionItems,
      include_crm_matches: spec.includeCrmMatches,
    };
    return this.#send('POST', this.#url('/webhooks'), accessToken, body, opts, (raw) => {
      const hook = webhookOf(raw);
      if (!hook.ok) return hook;
      const secret = (raw as Record<string, unknown>).secret;
      return typeof secret === 'string' && secret.startsWith('whsec_')
        ? { ok: true, value: { ...hook.value, secret } }
        : { ok: false, problem: 'the answer has no whsec_ secret' };
    });
  }

  /** One webhook of the token's account; not_found once it was deleted (in Fathom's settings, say). */
  getWebhook(accessToken: string, id: string, opts: CallOptions = {}): Promise<ApiOutcome<FathomWebhook>> {
    return this.#send('GET', this.#webhook(id), accessToken, undefined, opts, webhookOf);
  }

  /** The token account's webhooks (no secrets). */
  listWebhooks(accessToken: string, opts: CallOptions = {}): Promise<ApiOutcome<FathomWebhook[]>> {
    return this.#send('GET', this.#url('/webhooks'), accessToken, undefined, opts, (raw) => {
      const items = (raw as { items?: unknown } | null)?.items;
      if (!Array.isArray(items)) return { ok: false, problem: 'the answer has no items list' };
      const hooks: FathomWebhook[] = [];
      for (const item of items) {
        const hook = webhookOf(item);
        if (!hook.ok) return hook;
        hooks.push(hook.value);
      }
      return { ok: true, value: hooks };
    });
  }

  /** 204 → ok; not_found when it is already gone. */
  deleteWebhook(accessToken: string, id: string, opts: CallOptions = {}): Promise<ApiOutcome<null>> {
    return this.#send('DELETE', this.#webhook(id), accessToken, undefined, opts, () => ({
      ok: true,
      value: null,
    }));
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  #webhook(id: string): URL {
    return this.#url(`/webhooks/${encodeURIComponent(id)}`);
  }

  #url(path: string): URL {
    return new URL(`${this.#base}${path}`);
  }

  #recording(recordingId: number, what: 'transcript' | 'summary'): URL {
    if (!Number.isSafeInteger(recordingId) || recordingId <= 0) {
      throw new TypeError(`FathomClient: recording id must be a positive integer, got ${recordingId}`);
    }
    return this.#url(`/recordings/${recordingId}/${what}`);
  }

  #get<T>(
    url: URL,
    accessToken: string,
    opts: CallOptions,
    parse: (body: unknown) => ParseResult<T>,
  ): Promise<ApiOutcome<T>> {
    return this.#send('GET', url, accessToken, undefined, opts, parse);
  }

  async #send<T>(
    method: 'GET' | 'POST' | 'DELETE',
    url: URL,
    accessToken: string,
    json: unknown,
    opts: CallOptions,
    parse: (body: unknown) => ParseResult<T>,
  ): Promise<ApiOutcome<T>> {
    if (accessToken === '') throw new TypeError('FathomClient: the access token is empty');
    const answer = await this.#http.send(method, url, accessToken, json, opts.signal);
    if (answer.kind === 'transient') return answer;
    // A 204 has no body; the classifier wants JSON for a 2xx.
    const text = answer.status === 204 && answer.text === '' ? 'null' : answer.text;
    return classifyApiResponse(PROVIDERS.fathom, answer.status, answer.headers, text, parse, {
      now: this.#now(),
      rateLimitDefaultWaitMs: this.#rateLimitDefaultWaitMs,
      where: `${method} ${url.origin}${url.pathname}`,
    });
  }
}
