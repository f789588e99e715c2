export { CONNECTION_STATUSES, isConnectionStatus } from './statuses.ts';
export type { ConnectionStatus } from './statuses.ts';
export { CAUSE_TARGETS, describeCause } from './causes.ts';
export type { TransitionCause, TransitionCauseKind } from './causes.ts';
export {
  STATUS_TRANSITIONS,
  InvalidTransitionError,
  allowedTargets,
  assertTransition,
  transition,
} from './machine.ts';
export type { InvalidTransition, TransitionEvent, TransitionResult } from './machine.ts';
