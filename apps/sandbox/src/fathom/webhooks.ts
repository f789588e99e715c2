// Webhook delivery: a recorded meeting is POSTed to every destination its account registered,
// signed as Standard Webhooks, and retried on failure on a schedule (Svix's by default). Each
// attempt is signed afresh with its own timestamp; the message id stays the same.
import { Agent, request } from 'undici';
import type { SandboxLogger } from '../log.ts';
import { randomAlphanumeric } from '../random.ts';
import { signStandardWebhook } from '../standard-webhooks.ts';
import type { Webhook } from './store.ts';

export interface DeliveryAttempt {
  at: string;
  status: number | null;
  error: string | null;
}

export interface Delivery {
  id: string;
  webhookId: string;
  url: string;
  recordingId: number;
  state: 'pending' | 'delivered' | 'failed';
  attempts: DeliveryAttempt[];
}

const KEPT_DELIVERIES = 10_000;

export class WebhookDeliverer {
  private readonly agent = new Agent({ keepAliveTimeout: 4_000 });
  private readonly timers = new Set<NodeJS.Timeout>();
  private deliveries: Delivery[] = [];
  private closed = false;

  constructor(
    private readonly retryDelaysMs: readonly number[],
    private readonly timeoutMs: number,
    private readonly logger: SandboxLogger,
  ) {}

  deliver(webhook: Webhook, recordingId: number, body: string): Delivery {
    const delivery: Delivery = {
      id: `msg_${randomAlphanumeric(24)}`,
      webhookId: webhook.id,
      url: webhook.destinationUrl,
      recordingId,
      state: 'pending',
      attempts: [],
    };
    this.deliveries.push(delivery);
    if (this.deliveries.length > KEPT_DELIVERIES)
      this.deliveries = this.deliveries.slice(-KEPT_DELIVERIES / 2);
    void this.attempt(delivery, webhook.secret, body);
    return delivery;
  }

  list(): readonly Delivery[] {
    return this.deliveries;
  }

  /** Cancels scheduled retries and forgets past deliveries. */
  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.deliveries = [];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clear();
    await this.agent.destroy();
  }

  private async attempt(delivery: Delivery, secret: string, body: string): Promise<void> {
    if (this.closed) return;
    const timestamp = Math.floor(Date.now() / 1000);
    const attempt: DeliveryAttempt = { at: new Date().toISOString(), status: null, error: null };
    try {
      const response = await request(delivery.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Svix-Webhooks/1.0 (conduit-sandbox)',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signStandardWebhook(secret, delivery.id, timestamp, body),
        },
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      await response.body.dump();
      attempt.status = response.statusCode;
    } catch (error) {
      attempt.error = error instanceof Error ? error.message : String(error);
    }
    if (this.closed) return;
    delivery.attempts.push(attempt);
    if (attempt.status !== null && attempt.status >= 200 && attempt.status < 300) {
      delivery.state = 'delivered';
      return;
    }
    const delay = this.retryDelaysMs[delivery.attempts.length - 1];
    if (delay === undefined) {
      delivery.state = 'failed';
      this.logger.warn(
        { deliveryId: delivery.id, url: delivery.url, attempts: delivery.attempts.length },
        'webhook delivery failed for good',
      );
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery, secret, body);
    }, delay);
    this.timers.add(timer);
  }
}
