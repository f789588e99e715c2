// Revokes the grants of disconnected connections at their providers, from the revocation outbox
// (GrantRevocation), so a disconnect never waits on a provider and a failed revocation is not
// forgotten: the api attempts each one right after answering, the worker's drain retries what
// failed with backoff until the provider confirms, or the attempts or the age run out (then an
// error line and the `gave_up` count). The tokens are read from the vault only for the request.
//
// Why a table rather than a BullMQ job: the row is written in the disconnect's transaction, so it
// exists exactly when the tokens were wiped; a queue job could be lost between commit and enqueue,
// and would have to carry the token (or its ciphertext) through Redis.
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, defineRetryPolicy, type ProviderKey, type RetryPolicy } from '@conduit/core';
import { GrantRevocationRepository, type ClaimedRevocation, type Db } from '@conduit/db';
import type { Logger } from 'pino';

/** What the provider said (the providers package's RevocationClient answers this). */
export type RevocationAnswer =
  | { kind: 'revoked' }
  | { kind: 'not_offered'; note: string }
  | { kind: 'failed'; detail: string; retryable: boolean };

export interface GrantRevoker {
  revoke(
    provider: ProviderKey,
    tokens: { accessToken: string | null; refreshToken: string | null },
  ): Promise<RevocationAnswer>;
}

export interface RevocationDrainSettings {
  pollMs: number;
  /** attempts in all, the first included, before it is given up */
  maxAttempts: number;
  /** a revocation older than this is given up after its next failure */
  maxAgeMs: number;
  /** first retry delay, doubling per attempt with jitter */
  retryBaseMs: number;
  /** longest delay between two attempts */
  retryMaxMs: number;
  /** the longest one attempt takes (the HTTP timeout): the claim outlives it */
  attemptTimeoutMs: number;
  batchSize?: number;
}

export type RevocationResult = 'revoked' | 'retry' | 'gave_up' | 'superseded';

export interface RevocationDrainDeps {
  revocations: GrantRevocationRepository;
  revoker: GrantRevoker;
  vault: { decrypt(ciphertext: string): string };
  logger: Logger;
  /** counts each attempt's result (the `conduit_revocations_total` metric) */
  onResult?: (provider: ProviderKey, result: RevocationResult) => void;
  now?: () => Date;
  random?: () => number;
}

export function createRevocationDrain(
  db: Db,
  deps: Omit<RevocationDrainDeps, 'revocations'>,
  settings: RevocationDrainSettings,
): RevocationDrain {
  return new RevocationDrain({ ...deps, revocations: new GrantRevocationRepository(db) }, settings);
}

const DEFAULT_BATCH = 20;

export class RevocationDrain {
  readonly #deps: RevocationDrainDeps;
  readonly #settings: RevocationDrainSettings;
  readonly #backoff: RetryPolicy;
  readonly #leaseMs: number;
  readonly #wake = new AbortController();
  /** attempts started by `attemptSoon`, awaited by `stop` */
  readonly #inFlight = new Set<Promise<unknown>>();
  #loop: Promise<void> | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;

  constructor(deps: RevocationDrainDeps, settings: RevocationDrainSettings) {
    this.#deps = deps;
    this.#settings = settings;
    this.#backoff = defineRetryPolicy({ baseDelayMs: settings.retryBaseMs, maxDelayMs: settings.retryMaxMs });
    this.#leaseMs = 2 * settings.attemptTimeoutMs + 30_000;
  }

  /** Polls the outbox until stopped (the worker). */
  start(): void {
    this.#loop ??= this.#run();
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      this.#wake.abort();
      await this.#loop;
      await Promise.allSettled([...this.#inFlight]);
    })();
    return this.#stopped;
  }

  /**
   * The api, right after the disconnect answered: one attempt now, in the background. Never
   * throws; what fails is left to the worker's drain.
   */
  attemptSoon(id: string): void {
    const attempt = this.attempt(id).catch((err: unknown) => {
      this.#deps.logger.warn(
        { revocationId: id, err: (err as Error).message },
        'revocation: the first attempt could not run; the worker retries it',
      );
    });
    this.#inFlight.add(attempt);
    void attempt.finally(() => this.#inFlight.delete(attempt));
  }

  /** Claims the row and attempts it; null when it is not due or someone else holds it. */
  async attempt(id: string): Promise<RevocationResult | null> {
    const row = await this.#deps.revocations.claimOne(id, { now: this.#now(), leaseMs: this.#leaseMs });
    return row ? this.#attemptClaimed(row) : null;
  }

  /** One pass: claims a batch of due rows and attempts them side by side. */
  async drainOnce(): Promise<RevocationResult[]> {
    const claimed = await this.#deps.revocations.claimDue({
      now: this.#now(),
      leaseMs: this.#leaseMs,
      limit: this.#settings.batchSize ?? DEFAULT_BATCH,
    });
    return Promise.all(claimed.map((row) => this.#attemptClaimed(row)));
  }

  async #attemptClaimed(row: ClaimedRevocation): Promise<RevocationResult> {
    const { revocations, logger, vault } = this.#deps;
    const fields = {
      revocationId: row.id,
      connectionId: row.connectionId,
      provider: row.provider,
      attempt: row.attempts,
    };
    let answer: RevocationAnswer;
    try {
      const tokens = {
        accessToken: row.accessTokenEnc === null ? null : vault.decrypt(row.accessTokenEnc),
        refreshToken: row.refreshTokenEnc === null ? null : vault.decrypt(row.refreshTokenEnc),
      };
      answer = await this.#deps.revoker.revoke(row.provider, tokens);
    } catch (err) {
      // A key removed from CONDUIT_ENCRYPTION_KEYS before the row was finished: no retry helps.
      answer = {
        kind: 'failed',
        detail: `the tokens could not be read: ${(err as Error).message}`,
        retryable: false,
      };
    }
    const now = this.#now();
    let result: RevocationResult;
    switch (answer.kind) {
      case 'revoked':
        result = (await revocations.finish(row.id, row.attempts, {
          status: 'revoked',
          lastError: null,
          at: now,
        }))
          ? 'revoked'
          : 'superseded';
        if (result === 'revoked') logger.info(fields, 'revocation: the grant is revoked at the provider');
        break;
      case 'not_offered':
        result = await this.#giveUp(row, fields, answer.note, now);
        break;
      case 'failed': {
        const old = now.getTime() - row.createdAt.getTime() >= this.#settings.maxAgeMs;
        if (!answer.retryable || row.attempts >= this.#settings.maxAttempts || old) {
          const why = !answer.retryable
            ? 'the provider refused it'
            : old
              ? `it is older than ${Math.round(this.#settings.maxAgeMs / 3_600_000)} h`
              : `${row.attempts} attempts failed`;
          result = await this.#giveUp(row, fields, `${answer.detail} (${why})`, now);
          break;
        }
        const delayMs = backoffDelay(row.attempts, this.#backoff, this.#deps.random ?? Math.random);
        const recorded = await revocations.retryLater(row.id, row.attempts, {
          lastError: answer.detail,
          nextAttemptAt: new Date(now.getTime() + delayMs),
        });
        result = recorded ? 'retry' : 'superseded';
        if (recorded) {
          logger.warn(
            { ...fields, detail: answer.detail, retryInMs: delayMs },
            'revocation: the provider did not revoke the grant; will retry',
          );
        }
        break;
      }
    }
    this.#deps.onResult?.(row.provider, result);
    return result;
  }

  async #giveUp(
    row: ClaimedRevocation,
    fields: Record<string, unknown>,
    reason: string,
    now: Date,
  ): Promise<RevocationResult> {
    const done = await this.#deps.revocations.finish(row.id, row.attempts, {
      status: 'gave_up',
      lastError: reason,
      at: now,
    });
    if (!done) return 'superseded';
    this.#deps.logger.error(
      { ...fields, detail: reason },
      'revocation: gave up; the grant may still be active at the provider (the user can remove the app in its settings)',
    );
    return 'gave_up';
  }

  async #run(): Promise<void> {
    const batch = this.#settings.batchSize ?? DEFAULT_BATCH;
    while (!this.#stopping) {
      let claimed = 0;
      try {
        claimed = (await this.drainOnce()).length;
      } catch (err) {
        this.#deps.logger.error(
          { err: (err as Error).message },
          'revocation outbox could not be read; trying again',
        );
      }
      if (claimed < batch && !this.#stopping) {
        await sleep(this.#settings.pollMs, undefined, { signal: this.#wake.signal }).catch(() => undefined);
      }
    }
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }
}
