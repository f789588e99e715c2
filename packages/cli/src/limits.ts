// Bounds of the numeric options, kept apart from the commands so that building the help text
// imports nothing heavy (`--help` must not load Prisma, BullMQ or the config schema).
export const LIST_LIMIT = { default: 50, min: 1, max: 10_000 } as const;
export const SYNC_LIMIT = { min: 1, max: 100_000 } as const;
export const ROTATE_BATCH = { default: 500, min: 1, max: 10_000 } as const;
export const WEBHOOKS_LIMIT = { default: 20, min: 1, max: 1_000 } as const;
export const POLL_MS = { default: 500, min: 50, max: 60_000 } as const;
export const WEBHOOK_STATUSES = ['received', 'processed', 'unmatched', 'failed'] as const;
