import { describe, expect, it } from 'vitest';
import { signStandardWebhook, verifyStandardWebhook } from '../src/standard-webhooks.ts';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const timestamp = 1614265330;
const body = '{"test": 2432232314}';
const expected = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

describe('Standard Webhooks signatures', () => {
  it('match the published test vector', () => {
    expect(signStandardWebhook(secret, id, timestamp, body)).toBe(expected);
  });

  it('verify within ±300 s, and among several space-separated signatures', () => {
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': expected,
    };
    expect(verifyStandardWebhook(secret, headers, body, timestamp + 300)).toBe(true);
    expect(verifyStandardWebhook(secret, headers, body, timestamp - 300)).toBe(true);
    const listed = { ...headers, 'webhook-signature': `v1,bm9wZQ== ${expected}` };
    expect(verifyStandardWebhook(secret, listed, body, timestamp)).toBe(true);
  });

  it('refuse a changed body, another id, a stale timestamp or a wrong secret', () => {
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': expected,
    };
    expect(verifyStandardWebhook(secret, headers, '{"test": 2432232315}', timestamp)).toBe(false);
    expect(verifyStandardWebhook(secret, { ...headers, 'webhook-id': 'msg_other' }, body, timestamp)).toBe(
      false,
    );
    expect(verifyStandardWebhook(secret, headers, body, timestamp + 301)).toBe(false);
    expect(
      verifyStandardWebhook('whsec_' + Buffer.from('other').toString('base64'), headers, body, timestamp),
    ).toBe(false);
  });
});
