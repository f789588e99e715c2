-- Per-connection provider webhooks (Fathom: one per account, each with its own secret), and the
-- issued access-token lifetime that the refresh moment adapts to.
ALTER TABLE "Connection" ADD COLUMN "tokenLifetimeSeconds" INTEGER;

CREATE TABLE "ConnectionWebhook" (
    "connectionId" UUID NOT NULL,
    "provider" "Provider" NOT NULL,
    "routingId" TEXT NOT NULL,
    "externalId" TEXT,
    "secretEnc" TEXT,
    "registeredAt" TIMESTAMP(3),
    "checkedAt" TIMESTAMP(3),
    "lastError" TEXT,
    "claimUntil" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ConnectionWebhook_pkey" PRIMARY KEY ("connectionId")
);

CREATE UNIQUE INDEX "ConnectionWebhook_routingId_key" ON "ConnectionWebhook"("routingId");
CREATE INDEX "ConnectionWebhook_checkedAt_idx" ON "ConnectionWebhook"("checkedAt");

ALTER TABLE "ConnectionWebhook" ADD CONSTRAINT "ConnectionWebhook_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;
