// What goes on the wire for one notification: a Standard Webhooks delivery whose webhook-id is
// the Notification's own id, stable across retries, so the receiver can drop redeliveries.
import { webhookHeaders } from '@conduit/core';
import type { ClaimedNotification } from '@conduit/db';

export interface NotificationRequest {
  body: string;
  headers: Record<string, string>;
}

export function buildNotificationRequest(
  notification: Pick<ClaimedNotification, 'id' | 'type' | 'createdAt' | 'payload'>,
  secret: string,
  now: Date,
): NotificationRequest {
  // Payloads are written as ids and reasons only (notificationPayload): never a token.
  const body = JSON.stringify({
    id: notification.id,
    type: notification.type,
    createdAt: notification.createdAt.toISOString(),
    data: notification.payload,
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Conduit-Notify/0.1',
      ...webhookHeaders(secret, notification.id, Math.floor(now.getTime() / 1000), body),
    },
  };
}
