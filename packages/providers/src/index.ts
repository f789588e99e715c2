export { TokenClient } from './token-client.ts';
export type {
  CodeExchange,
  ProviderClientConfig,
  RefreshOptions,
  TokenClientOptions,
  TokenClientTimeouts,
} from './token-client.ts';
export { classifyTokenResponse } from './token-response.ts';
export type { ClassifyContext } from './token-response.ts';
export { basicAuthorization, buildTokenRequest, formEncode } from './token-request.ts';
export type { ClientCredentials, TokenGrant, TokenRequest } from './token-request.ts';
export { classifyTransportError } from './transport-error.ts';
export type { TransientOutcome } from './transport-error.ts';
export { isRateLimited, parseRetryAfter, rateLimitWaitMs } from './rate-limit.ts';
export type { RateLimitWaitInput } from './rate-limit.ts';
export { parseHttpDate } from './http-date.ts';
export { headerValue, headerValues } from './http-headers.ts';
export { ApiHttp } from './api/http-get.ts';
export type { ApiHttpOptions, ApiTimeouts } from './api/http-get.ts';
export { classifyApiResponse } from './api/api-response.ts';
export { FathomClient } from './fathom/client.ts';
export type {
  CallOptions,
  FathomClientOptions,
  FathomWebhook,
  FathomWebhookSpec,
  ListMeetingsQuery,
} from './fathom/client.ts';
export { identifyFathomAccount } from './fathom/identity.ts';
export { IdentityClient } from './identity/identity-client.ts';
export type { IdentityAnswer, IdentityClientOptions } from './identity/identity-client.ts';
export type { HttpHeaders } from './http-headers.ts';
export { ProxyClient } from './proxy/proxy-client.ts';
export type { ProxyAnswer, ProxyClientOptions, ProxyRequest } from './proxy/proxy-client.ts';
export { RevocationClient } from './revocation-client.ts';
export type { RevocationClientOptions, RevocationOutcome, RevocationTarget } from './revocation-client.ts';
