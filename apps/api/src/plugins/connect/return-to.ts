// Where the callback sends the user back when the embedding app asked for a redirect instead of
// the popup page: an absolute http(s) URL, on CONDUIT_APP_ORIGIN unless that is '*'.
import { HttpProblem } from '../../problem.ts';

export function validateReturnTo(raw: string, appOrigin: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(
      `"${raw.slice(0, 100)}" is not an absolute URL; expected e.g. https://app.example.com/settings/integrations`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalid(`returnTo must be an http(s) URL, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') throw invalid('returnTo must not carry credentials');
  if (appOrigin !== '*' && url.origin !== appOrigin) {
    throw invalid(`returnTo must be on ${appOrigin} (CONDUIT_APP_ORIGIN), not ${url.origin}`);
  }
  return url.toString();
}

/** `returnTo` with the result appended to its query (existing parameters are kept). */
export function returnToWith(returnTo: string, params: Record<string, string | undefined>): string {
  const url = new URL(returnTo);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

function invalid(detail: string): HttpProblem {
  return new HttpProblem(400, 'invalid-return-to', 'returnTo is not acceptable', detail);
}
