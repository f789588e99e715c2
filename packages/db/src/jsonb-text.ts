// JSON text that Postgres jsonb can hold. jsonb refuses \u0000 (22P05) and an unpaired surrogate
// escape such as \ud800 (22P02), though both are valid JSON; those characters become U+FFFD. Text
// without such an escape (nearly all of it) is returned as it is, unparsed.
const RISKY_ESCAPE = /\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})/;
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `json` must be valid JSON text. */
export function jsonbSafeText(json: string): string {
  if (!RISKY_ESCAPE.test(json)) return json;
  return JSON.stringify(storable(JSON.parse(json)));
}

function storable(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(UNSTORABLE, '\ufffd');
  if (Array.isArray(value)) return value.map(storable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k.replace(UNSTORABLE, '\ufffd'), storable(v)]),
    );
  }
  return value;
}
