// "Who am I" for every provider, used once per OAuth connect to name the account a connection
// belongs to. Driven by each declaration's `identity`; no provider is special-cased here.
import {
  type AccountIdentity,
  type IdentitySpec,
  type ApiOutcome,
  type ParseResult,
  type ProviderKey,
  providerSpec,
} from '@conduit/core';
import { ApiHttp, type ApiHttpOptions } from '../api/http-get.ts';
import { classifyApiResponse } from '../api/api-response.ts';
import { FathomClient } from '../fathom/client.ts';
import { identifyFathomAccount, type IdentityAnswer } from '../fathom/identity.ts';
import { isRecord } from '../json.ts';

export interface IdentityClientOptions extends ApiHttpOptions {
  /** Resolved API base URL of each enabled provider. */
  apiBaseUrls: Partial<Record<ProviderKey, string>>;
  rateLimitDefaultWaitMs: number;
  now?: () => Date;
}

export type { IdentityAnswer } from '../fathom/identity.ts';

export class IdentityClient {
  readonly #http: ApiHttp;
  readonly #options: IdentityClientOptions;
  readonly #fathom: FathomClient | undefined;

  constructor(options: IdentityClientOptions) {
    this.#options = options;
    this.#http = new ApiHttp(options);
    const fathomBase = options.apiBaseUrls.fathom;
    this.#fathom =
      fathomBase === undefined ? undefined : new FathomClient({ ...options, apiBaseUrl: fathomBase });
  }

  /** The account behind `accessToken`; an `ok` identity may still lack fields the provider withholds. */
  async identify(provider: ProviderKey, accessToken: string, signal?: AbortSignal): Promise<IdentityAnswer> {
    const base = this.#options.apiBaseUrls[provider];
    if (base === undefined) {
      throw new Error(
        `IdentityClient: provider "${provider}" has no API base URL configured (is it enabled?)`,
      );
    }
    const strategy = providerSpec(provider).identity;
    switch (strategy.kind) {
      case 'fathom_recorder':
        return identifyFathomAccount(this.#fathom!, accessToken, signal ? { signal } : {});
      case 'profile': {
        const url = new URL(`${base.replace(/\/+$/, '')}${strategy.path}`);
        const answer = await this.#http.get(url, accessToken, signal);
        if (answer.kind === 'transient') return { outcome: answer, requests: 1 };
        const outcome: ApiOutcome<AccountIdentity | null> = classifyApiResponse(
          providerSpec(provider),
          answer.status,
          answer.headers,
          answer.text,
          (body) => profileIdentity(body, strategy),
          {
            now: this.#options.now?.() ?? new Date(),
            rateLimitDefaultWaitMs: this.#options.rateLimitDefaultWaitMs,
            where: `GET ${url.origin}${url.pathname}`,
          },
        );
        return { outcome, requests: 1 };
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#http.close(), this.#fathom?.close()]);
  }
}

/** A dotted path into the profile JSON (`data.id` for X); undefined where it leads nowhere. */
function at(body: Record<string, unknown>, path: string | undefined): unknown {
  if (path === undefined) return undefined;
  let node: unknown = body;
  for (const part of path.split('.')) {
    if (!isRecord(node)) return undefined;
    node = node[part];
  }
  return node;
}

function profileIdentity(
  body: unknown,
  fields: Extract<IdentitySpec, { kind: 'profile' }>,
): ParseResult<AccountIdentity> {
  if (!isRecord(body)) return { ok: false, problem: 'expected a JSON object' };
  const text = (value: unknown): string | null =>
    typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;
  const accountId = text(at(body, fields.id));
  if (accountId === null) return { ok: false, problem: `${fields.id}: expected the account id` };
  return {
    ok: true,
    value: {
      accountId,
      email: text(at(body, fields.email))?.toLowerCase() ?? null,
      name: text(at(body, fields.name)),
    },
  };
}
