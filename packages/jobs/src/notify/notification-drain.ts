// Drains the Notification outbox to the embedding app's webhook receiver, at least once.
//
// Why a polling claim on the table rather than a BullMQ job per notification: the outbox row is
// written in the same transaction as the status change, so it is the one durable record of what
// must be sent; a queue job would be a second copy that can be lost between the commit and the
// enqueue. Claiming with FOR UPDATE SKIP LOCKED plus a lease (NotificationRepository.claimDue)
// lets any number of worker processes drain the table without sending a row twice at once, and
// a row whose worker died comes back when its lease runs out.
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, defineRetryPolicy, type RetryPolicy } from '@conduit/core';
import { NotificationRepository, type ClaimedNotification, type Db } from '@conduit/db';
import type { Logger } from 'pino';
import { buildNotificationRequest } from './notification-request.ts';
import { NotificationSender } from './notification-sender.ts';

export interface NotifyTarget {
  url: string;
  /** whsec_… (Standard Webhooks) */
  secret: string;
}

export interface NotificationDrainSettings {
  /** undefined: nothing is sent, rows stay pending until a URL is configured */
  target: NotifyTarget | undefined;
  pollMs: number;
  maxAttempts: number;
  timeoutMs: number;
  /** rows claimed, and sent concurrently, per pass (default 20) */
  batchSize?: number;
  /** first retry delay, doubling per attempt with jitter (default 15 s) */
  retryBaseMs?: number;
  /** longest delay between two attempts (default 2 h) */
  retryMaxMs?: number;
}

export interface NotificationDrainDeps {
  notifications: NotificationRepository;
  logger: Logger;
  now?: () => Date;
  random?: () => number;
}

/** The drain over the outbox of `db`: what an app's composition root calls. */
export function createNotificationDrain(
  db: Db,
  logger: Logger,
  settings: NotificationDrainSettings,
): NotificationDrain {
  return new NotificationDrain({ notifications: new NotificationRepository(db), logger }, settings);
}

export type DeliveryOutcome = 'delivered' | 'retry' | 'dead' | 'superseded';

const DEFAULT_BATCH = 20;
const DEFAULT_RETRY_BASE_MS = 15_000;
const DEFAULT_RETRY_MAX_MS = 2 * 3_600_000;

export class NotificationDrain {
  readonly #deps: NotificationDrainDeps;
  readonly #settings: NotificationDrainSettings;
  readonly #sender: NotificationSender;
  readonly #backoff: RetryPolicy;
  readonly #batchSize: number;
  /** a claim outlives every send of its batch (they run side by side) and the writes after */
  readonly #leaseMs: number;
  readonly #wake = new AbortController();
  #loop: Promise<void> | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;

  constructor(deps: NotificationDrainDeps, settings: NotificationDrainSettings) {
    this.#deps = deps;
    this.#settings = settings;
    this.#sender = new NotificationSender(settings.timeoutMs);
    this.#backoff = defineRetryPolicy({
      baseDelayMs: settings.retryBaseMs ?? DEFAULT_RETRY_BASE_MS,
      maxDelayMs: settings.retryMaxMs ?? DEFAULT_RETRY_MAX_MS,
    });
    this.#batchSize = settings.batchSize ?? DEFAULT_BATCH;
    this.#leaseMs = 2 * settings.timeoutMs + 30_000;
  }

  /** Starts polling; without a target it only says, once, that nothing will be sent. */
  start(): void {
    const { target } = this.#settings;
    if (!target) {
      this.#deps.logger.warn(
        'notifications are not being delivered: CONDUIT_NOTIFY_URL is not set, so they stay pending in the outbox until it is',
      );
      return;
    }
    this.#deps.logger.info(
      { receiver: new URL(target.url).origin, maxAttempts: this.#settings.maxAttempts },
      'notification delivery started',
    );
    this.#loop ??= this.#run(target);
  }

  /** Stops claiming, lets the sends in flight finish (each bounded by the timeout), closes the HTTP pool. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      this.#wake.abort();
      await this.#loop;
      await this.#sender.close();
    })();
    return this.#stopped;
  }

  /** One pass: claim a batch and deliver it. Returns how many rows were claimed. */
  async drainOnce(target: NotifyTarget): Promise<number> {
    const claimed = await this.#deps.notifications.claimDue({
      now: this.#now(),
      leaseMs: this.#leaseMs,
      limit: this.#batchSize,
    });
    await Promise.all(claimed.map((n) => this.deliver(target, n)));
    return claimed.length;
  }

  /** Sends one claimed row and records the result. */
  async deliver(target: NotifyTarget, n: ClaimedNotification): Promise<DeliveryOutcome> {
    const { notifications, logger } = this.#deps;
    const { maxAttempts } = this.#settings;
    const fields = { notificationId: n.id, type: n.type, attempt: n.attempts };
    if (n.attempts > maxAttempts) {
      // Its previous claim never reported back (the worker died mid-send) and it has no attempts left.
      const lastError = `gave up after ${maxAttempts} attempts; the last one never reported back`;
      await notifications.recordFailure(n.id, n.attempts, {
        lastError,
        nextAttemptAt: this.#now(),
        dead: true,
      });
      logger.error(fields, 'notification is dead: no attempts left');
      return 'dead';
    }
    const result = await this.#sender.send(
      target.url,
      buildNotificationRequest(n, target.secret, this.#now()),
    );
    if (result.ok) {
      await notifications.markDelivered(n.id, this.#now());
      logger.info({ ...fields, status: result.status }, 'notification delivered');
      return 'delivered';
    }
    const dead = n.attempts >= maxAttempts;
    const delayMs = dead ? 0 : backoffDelay(n.attempts, this.#backoff, this.#deps.random ?? Math.random);
    const nextAttemptAt = new Date(this.#now().getTime() + delayMs);
    const recorded = await notifications.recordFailure(n.id, n.attempts, {
      lastError: result.error,
      nextAttemptAt,
      dead,
    });
    if (!recorded) return 'superseded';
    if (dead) {
      logger.error(
        { ...fields, error: result.error },
        `notification is dead after ${maxAttempts} attempts; it stays in the outbox, shown on the health page`,
      );
      return 'dead';
    }
    logger.warn(
      { ...fields, error: result.error, retryInMs: delayMs },
      'notification delivery failed; will retry',
    );
    return 'retry';
  }

  async #run(target: NotifyTarget): Promise<void> {
    while (!this.#stopping) {
      let claimed = 0;
      try {
        claimed = await this.drainOnce(target);
      } catch (err) {
        this.#deps.logger.error({ err }, 'notification outbox could not be read; trying again');
      }
      // A full batch suggests more are due: go again at once, else wait for the next poll.
      if (claimed < this.#batchSize && !this.#stopping) {
        await sleep(this.#settings.pollMs, undefined, { signal: this.#wake.signal }).catch(() => undefined);
      }
    }
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }
}
