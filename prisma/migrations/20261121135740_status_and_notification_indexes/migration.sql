-- CreateIndex
CREATE INDEX "Connection_status_statusChangedAt_idx" ON "Connection"("status", "statusChangedAt");

-- CreateIndex
CREATE INDEX "Notification_connectionId_createdAt_idx" ON "Notification"("connectionId", "createdAt");
