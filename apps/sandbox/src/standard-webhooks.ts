// Standard Webhooks as Fathom signs them. The scheme itself lives in @conduit/core (the same
// code Conduit verifies with); the sandbox adds the boolean check its tests use and new secrets.
import { randomBytes } from 'node:crypto';
import { signWebhook, verifyWebhook, WebhookVerificationError } from '@conduit/core';

export const WEBHOOK_TOLERANCE_SECONDS = 300;

export const signStandardWebhook = signWebhook;

export interface StandardWebhookHeaders {
  'webhook-id'?: string | undefined;
  'webhook-timestamp'?: string | undefined;
  'webhook-signature'?: string | undefined;
}

/** True when one of the listed v1 signatures matches and the timestamp is within tolerance. */
export function verifyStandardWebhook(
  secret: string,
  headers: StandardWebhookHeaders,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = WEBHOOK_TOLERANCE_SECONDS,
): boolean {
  try {
    verifyWebhook({
      secret,
      headers: { ...headers },
      rawBody: body,
      now: new Date(nowSeconds * 1000),
      toleranceSeconds,
    });
    return true;
  } catch (err) {
    if (err instanceof WebhookVerificationError) return false;
    throw err;
  }
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}
