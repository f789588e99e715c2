import { describe, expect, it } from 'vitest';
import { jsonbSafeText } from '../src/jsonb-text.ts';

describe('jsonbSafeText', () => {
  it('returns text without a risky escape as it is, byte for byte', () => {
    const text = '{"b": 1,  "a": "caf\\u00e9"}';
    expect(jsonbSafeText(text)).toBe(text);
  });

  it('replaces NUL and unpaired surrogates with U+FFFD, in values and keys, and keeps pairs', () => {
    const out = JSON.parse(
      jsonbSafeText('{"t":"a\\u0000b","k\\u0000":["\\ud800","\\udc00x","\\ud83d\\ude00"]}'),
    ) as Record<string, unknown>;
    expect(out).toEqual({ t: 'a\ufffdb', 'k\ufffd': ['\ufffd', '\ufffdx', '\u{1F600}'] });
  });
});
