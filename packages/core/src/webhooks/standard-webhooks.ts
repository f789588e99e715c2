// Standard Webhooks (the scheme Fathom's SDK and Svix use): headers `webhook-id`,
// `webhook-timestamp`, `webhook-signature: v1,<base64>` (space-separated list); HMAC-SHA256 over
// `${id}.${timestamp}.${rawBody}` keyed with the base64-decoded part of a `whsec_` secret.
// Used to verify Fathom's deliveries and to sign Conduit's own notifications.
import { createHmac, timingSafeEqual } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

export type WebhookVerifyFailure = 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature';

export class WebhookVerificationError extends Error {
  constructor(
    readonly reason: WebhookVerifyFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export function webhookSecretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new Error('webhook secret is empty; expected "whsec_" followed by base64');
  return key;
}

export function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  rawBody: string | Buffer,
): string {
  const mac = createHmac('sha256', webhookSecretKey(secret))
    .update(`${id}.${timestampSeconds}.`)
    .update(rawBody)
    .digest('base64');
  return `v1,${mac}`;
}

/** The three headers of a signed delivery. */
export function webhookHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  rawBody: string | Buffer,
): WebhookHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signWebhook(secret, id, timestampSeconds, rawBody),
  };
}

/**
 * Verifies a delivery: any one of the listed `v1` signatures must match (senders list several
 * while rotating secrets), compared in constant time, and the timestamp must be within
 * `toleranceSeconds` of `now` either way (a replay defence).
 */
export function verifyWebhook(args: {
  secret: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string | Buffer;
  now: Date;
  toleranceSeconds: number;
}): { id: string; timestamp: Date } {
  const get = (name: string) => {
    const v = args.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = get('webhook-id');
  const ts = get('webhook-timestamp');
  const sig = get('webhook-signature');
  if (!id || !ts || !sig) {
    throw new WebhookVerificationError(
      'missing_headers',
      'missing webhook-id, webhook-timestamp or webhook-signature header (Standard Webhooks)',
    );
  }
  if (!/^\d{1,12}$/.test(ts)) {
    throw new WebhookVerificationError(
      'bad_timestamp',
      'webhook-timestamp must be whole seconds since the epoch',
    );
  }
  const seconds = Number(ts);
  const skew = Math.abs(args.now.getTime() / 1000 - seconds);
  if (skew > args.toleranceSeconds) {
    throw new WebhookVerificationError(
      'stale_timestamp',
      `webhook-timestamp is ${Math.round(skew)} s away from now; deliveries older or newer than ${args.toleranceSeconds} s are refused`,
    );
  }
  const expected = Buffer.from(signWebhook(args.secret, id, seconds, args.rawBody).slice(3), 'base64');
  const matches = sig
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .some((s) => {
      const candidate = Buffer.from(s.slice(3), 'base64');
      return candidate.length === expected.length && timingSafeEqual(candidate, expected);
    });
  if (!matches)
    throw new WebhookVerificationError('bad_signature', 'no webhook-signature matches the payload');
  return { id, timestamp: new Date(seconds * 1000) };
}
