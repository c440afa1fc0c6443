-- Issue 11: which platform files were forwarded to which tenant, so `GET /v1/mux/files/…` serves
-- a tenant only files from its own bound chats. Written in the transaction that queues the
-- event; `locator` is what fetches the file (Telegram file_id, WhatsApp media id, Discord CDN
-- URL) and never leaves the service. Pruned after `expires_at_ms`.
CREATE TABLE file_grants (
    channel TEXT NOT NULL,
    file_ref TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    locator TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    PRIMARY KEY (channel, file_ref, tenant_id)
);
CREATE INDEX file_grants_expiry ON file_grants (expires_at_ms);
