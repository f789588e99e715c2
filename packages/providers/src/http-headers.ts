/** Response headers as undici and node:http hand them over: lower-case names, repeated ones as arrays. */
export type HttpHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Every value of a header, matched case-insensitively (callers may pass headers from anywhere). */
export function headerValues(headers: HttpHeaders, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    if (Array.isArray(value)) values.push(...value);
    else values.push(value);
  }
  return values;
}

/** The first value of a header, trimmed, or undefined. */
export function headerValue(headers: HttpHeaders, name: string): string | undefined {
  return headerValues(headers, name)[0]?.trim();
}
