// Where a proxied request may go: the provider's API base and below, nowhere else. The path is
// judged as the client sent it (raw, still percent-encoded), before anything decodes it, and the
// URL built from it is checked again: same origin as the base, path under the base's path. Pure.

export type ProxyTarget = { ok: true; url: URL } | { ok: false; reason: string };

/** Longest raw path-and-query accepted. */
export const MAX_PROXY_PATH_LENGTH = 4096;

/**
 * @param apiBaseUrl the provider's API base, e.g. https://api.spotify.com/v1
 * @param rawPath what followed `/v1/proxy/<connectionId>/` in the request line, query included
 */
export function proxyTarget(apiBaseUrl: string, rawPath: string): ProxyTarget {
  const base = new URL(apiBaseUrl);
  if (rawPath.length > MAX_PROXY_PATH_LENGTH)
    return refuse(`the path is longer than ${MAX_PROXY_PATH_LENGTH} characters`);
  const q = rawPath.indexOf('?');
  const path = q === -1 ? rawPath : rawPath.slice(0, q);
  const query = q === -1 ? '' : rawPath.slice(q);
  if (path === '') return refuse('name the provider path after the connection id, e.g. /v1/proxy/<id>/me');
  // Control characters, spaces and backslashes: some parsers read "\" as "/".
  if (hasSpaceControlOrBackslash(rawPath))
    return refuse('the path holds a space, control character or backslash');
  // Encoded "/", "\" or "." could become a separator or a dot segment after someone decodes them.
  if (/%(2f|5c|2e)/i.test(path)) return refuse('the path holds an encoded "/", "\\" or "."');
  if (path.startsWith('/'))
    return refuse('the path starts with "/" (a second slash would name another host)');
  if (/^[a-z][a-z0-9+.-]*:/i.test(path))
    return refuse('the path is an absolute URL; give a path below the API base');
  const segments = path.split('/');
  if (segments.some((s) => s === '.' || s === '..')) return refuse('the path holds a "." or ".." segment');
  if (segments.slice(0, -1).some((s) => s === '')) return refuse('the path holds an empty segment ("//")');
  if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/.test(path))
    return refuse('the path holds characters a URL path may not');
  if (/%(?![0-9a-f]{2})/i.test(rawPath)) return refuse('the path holds a "%" that is not a percent-encoding');

  const basePath = base.pathname.replace(/\/+$/, '');
  const url = new URL(`${base.origin}${basePath}/${path}${query}`);
  // Belt and braces: whatever the checks above missed, the URL itself must still be below the base.
  if (url.origin !== base.origin || !url.pathname.startsWith(`${basePath}/`) || url.username || url.password)
    return refuse("the path leads outside the provider's API base");
  return { ok: true, url };
}

function hasSpaceControlOrBackslash(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x5c) return true;
  }
  return false;
}

function refuse(reason: string): ProxyTarget {
  return { ok: false, reason };
}
