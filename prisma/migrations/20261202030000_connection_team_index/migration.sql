-- CreateIndex
CREATE INDEX "Connection_teamId_provider_idx" ON "Connection"("teamId", "provider");
