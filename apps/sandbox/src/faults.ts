// Fault injection per provider and endpoint, reproducible from the seed: each (provider,
// endpoint) draws from its own PRNG stream, one draw per request, so the same requests in the
// same order meet the same faults. Faults strike before the request takes effect.
import { PROVIDER_KEYS, type ProviderKey } from '@conduit/core';
import type { FastifyReply } from 'fastify';
import { connectionClosed, send, sleep, type WireAnswer } from './http.ts';
import { seededRng, type Rng } from './random.ts';

/**
 * `webhooks`: Fathom's webhook registration API (its own endpoint, so connects can succeed while
 * it fails); `revoke`: the revocation endpoints (RFC 7009, GitHub's delete-grant), so a disconnect's
 * revocation can fail while refreshes go through (the token endpoint's faults strike them too)
 */
export const FAULT_ENDPOINTS = ['token', 'api', 'authorize', 'webhooks', 'revoke'] as const;
export type FaultEndpoint = (typeof FAULT_ENDPOINTS)[number];

export interface FaultRule {
  /** share of requests answered 429 (or the provider's rate-limit answer) */
  rate429?: number;
  /** the wait the rate-limit answer announces (default 2 s) */
  retryAfterSeconds?: number;
  /** Google and GitHub also signal rate limits with 403 */
  rateLimitStatus?: 403 | 429;
  /** share of requests answered with a 5xx */
  rate5xx?: number;
  status5xx?: number;
  /** added to every request before it is processed */
  latencyMs?: number;
  /** share of requests never answered (until the client gives up) */
  hangRate?: number;
  /** share of connections destroyed without an answer */
  dropRate?: number;
}

export type FaultConfig = Partial<Record<ProviderKey | '*', Partial<Record<FaultEndpoint | '*', FaultRule>>>>;

export type FaultDecision =
  | { kind: 'none'; latencyMs: number }
  | { kind: 'drop'; latencyMs: number }
  | { kind: 'hang'; latencyMs: number }
  | { kind: 'rate_limit'; latencyMs: number; seconds: number; status: 403 | 429 }
  | { kind: 'server_error'; latencyMs: number; status: number };

const DEFAULT_RETRY_AFTER_SECONDS = 2;

export class Faults {
  private config: FaultConfig = {};
  private resolved = new Map<string, FaultRule>();
  private streams = new Map<string, Rng>();

  constructor(
    private readonly seed: number,
    private readonly initial: FaultConfig = {},
  ) {
    this.reset();
  }

  /** Back to the start-up configuration, with fresh PRNG streams. */
  reset(): void {
    this.config = structuredClone(this.initial);
    this.streams.clear();
    this.resolve();
  }

  clear(): void {
    this.config = {};
    this.resolve();
  }

  set(provider: ProviderKey | '*', endpoint: FaultEndpoint | '*', rule: FaultRule): void {
    const forProvider = (this.config[provider] ??= {});
    forProvider[endpoint] = rule;
    this.resolve();
  }

  snapshot(): FaultConfig {
    return structuredClone(this.config);
  }

  /** null on the fast path: no rule applies to this provider and endpoint. */
  roll(provider: ProviderKey, endpoint: FaultEndpoint): FaultDecision | null {
    const key = `${provider}:${endpoint}`;
    const rule = this.resolved.get(key);
    if (!rule) return null;
    let rng = this.streams.get(key);
    if (!rng) this.streams.set(key, (rng = seededRng(this.seed, 'faults', key)));
    const u = rng();
    const latencyMs = rule.latencyMs ?? 0;
    let edge = rule.dropRate ?? 0;
    if (u < edge) return { kind: 'drop', latencyMs };
    if (u < (edge += rule.hangRate ?? 0)) return { kind: 'hang', latencyMs };
    if (u < (edge += rule.rate429 ?? 0)) {
      const seconds = rule.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      return { kind: 'rate_limit', latencyMs, seconds, status: rule.rateLimitStatus ?? 429 };
    }
    if (u < (edge += rule.rate5xx ?? 0))
      return { kind: 'server_error', latencyMs, status: rule.status5xx ?? 503 };
    return { kind: 'none', latencyMs };
  }

  /** The most specific rule wins: provider+endpoint, provider+*, *+endpoint, *+*. */
  private resolve(): void {
    this.resolved = new Map();
    for (const provider of PROVIDER_KEYS) {
      for (const endpoint of FAULT_ENDPOINTS) {
        const rule =
          this.config[provider]?.[endpoint] ??
          this.config[provider]?.['*'] ??
          this.config['*']?.[endpoint] ??
          this.config['*']?.['*'];
        if (rule && Object.values(rule).some((v) => v)) this.resolved.set(`${provider}:${endpoint}`, rule);
      }
    }
  }
}

export interface FaultHooks {
  /** the provider's own rate-limit answer (and the wait it announces is remembered) */
  rateLimited(seconds: number, status: 403 | 429): WireAnswer;
  /** counts what was injected */
  injected(kind: FaultDecision['kind'], delayed: boolean): void;
}

/** Acts a decision out; 'answered' when the request must go no further. */
export async function enactFault(
  decision: FaultDecision,
  reply: FastifyReply,
  hooks: FaultHooks,
): Promise<'answered' | 'continue'> {
  hooks.injected(decision.kind, decision.latencyMs > 0);
  if (decision.latencyMs > 0) await sleep(decision.latencyMs);
  switch (decision.kind) {
    case 'none':
      return 'continue';
    case 'drop':
      reply.hijack();
      reply.raw.destroy();
      return 'answered';
    case 'hang':
      reply.hijack();
      await connectionClosed(reply);
      return 'answered';
    case 'rate_limit':
      send(reply, hooks.rateLimited(decision.seconds, decision.status));
      return 'answered';
    case 'server_error':
      send(reply, serverError(decision.status));
      return 'answered';
  }
}

/** What a failing edge proxy sends: HTML, not the provider's JSON. Clients must cope. */
function serverError(status: number): WireAnswer {
  const title = status === 502 ? 'Bad Gateway' : status === 504 ? 'Gateway Timeout' : 'Service Unavailable';
  return {
    status,
    contentType: 'text/html; charset=utf-8',
    body: `<html><head><title>${status} ${title}</title></head><body><h1>${status} ${title}</h1></body></html>`,
  };
}
