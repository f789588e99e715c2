import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, webhookHeaders, WebhookVerificationError } from '../src/index.ts';

// The Standard Webhooks test vector (../shared/PROVIDERS.md).
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const timestamp = 1614265330;
const body = '{"test": 2432232314}';
const vector = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const at = new Date(timestamp * 1000);

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof WebhookVerificationError) return e.reason;
    throw e;
  }
  return 'accepted';
}

describe('standard webhooks', () => {
  it('signs the published test vector exactly', () => {
    expect(signWebhook(secret, id, timestamp, body)).toBe(vector);
  });

  it('verifies the test vector, also among several signatures', () => {
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1,bm9wZQ== ${vector}`,
    };
    expect(verifyWebhook({ secret, headers, rawBody: body, now: at, toleranceSeconds: 300 })).toEqual({
      id,
      timestamp: at,
    });
  });

  it('refuses a changed body, a wrong secret, a missing header and a stale or future timestamp', () => {
    const headers = webhookHeaders(secret, id, timestamp, body);
    const base = { secret, headers, rawBody: body, now: at, toleranceSeconds: 300 };
    expect(reason(() => verifyWebhook({ ...base, rawBody: body.replace('2', '3') }))).toBe('bad_signature');
    expect(
      reason(() => verifyWebhook({ ...base, secret: 'whsec_' + Buffer.from('other').toString('base64') })),
    ).toBe('bad_signature');
    expect(
      reason(() => verifyWebhook({ ...base, headers: { ...headers, 'webhook-id': undefined } as never })),
    ).toBe('missing_headers');
    expect(reason(() => verifyWebhook({ ...base, now: new Date((timestamp + 301) * 1000) }))).toBe(
      'stale_timestamp',
    );
    expect(reason(() => verifyWebhook({ ...base, now: new Date((timestamp - 301) * 1000) }))).toBe(
      'stale_timestamp',
    );
    expect(reason(() => verifyWebhook({ ...base, now: new Date((timestamp + 299) * 1000) }))).toBe(
      'accepted',
    );
    expect(
      reason(() => verifyWebhook({ ...base, headers: { ...headers, 'webhook-timestamp': '12.5' } })),
    ).toBe('bad_timestamp');
  });
});
