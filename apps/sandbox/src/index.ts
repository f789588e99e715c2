export { startSandbox, type Sandbox } from './sandbox.ts';
export type { SandboxOptions } from './options.ts';
export type { SeededGrant } from './control/views.ts';
export type { FaultConfig, FaultEndpoint, FaultRule } from './faults.ts';
export { FAULT_ENDPOINTS } from './faults.ts';
export {
  ANOMALY_KINDS,
  type AnomalyKind,
  type AnomalyExample,
  type ProviderReport,
  type ProviderReports,
} from './report.ts';
export { defaultClientId, defaultClientSecret } from './oauth/clients.ts';
export {
  signStandardWebhook,
  verifyStandardWebhook,
  WEBHOOK_TOLERANCE_SECONDS,
} from './standard-webhooks.ts';
export { silentLogger, type SandboxLogger } from './log.ts';
export { parseFaultConfig } from './fault-config.ts';
