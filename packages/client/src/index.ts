export { ConduitClient } from './client.ts';
export type {
  ConduitClientOptions,
  ConnectionRef,
  GetAccessTokenOptions,
  StartConnectOptions,
} from './client.ts';
export {
  ConduitError,
  ConnectionError,
  ForbiddenError,
  InvalidRequestError,
  NeedsReauthError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from './errors.ts';
export type { Problem, Reconnect } from './errors.ts';
export type * from './types.ts';
