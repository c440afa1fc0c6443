-- The whole schema, designed once (issue 2). Times are unix milliseconds (BIGINT) so the SQL stays
-- portable to PostgreSQL; ids are text; secrets that mux only has to recognise are stored as BLAKE3 hex.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- 'active' | 'disabled'
    status TEXT NOT NULL DEFAULT 'active',
    inbound_url TEXT,
    -- Needed in clear to call the tenant's OpenClaw; never returned by any API.
    inbound_token TEXT,
    inbound_timeout_ms BIGINT,
    -- 'seed' when it came from the environment, 'runtime' once set through the API:
    -- a seeded target never overwrites a runtime one.
    inbound_target_source TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE tenant_api_keys (
    key_id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL UNIQUE,
    -- 'seed' for keys from MUX_TENANTS_JSON / MUX_API_KEY, else a free label.
    label TEXT,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);
CREATE INDEX tenant_api_keys_tenant ON tenant_api_keys(tenant_id);

CREATE TABLE bindings (
    binding_id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    scope TEXT NOT NULL,
    route_key TEXT NOT NULL,
    -- The session key inbound messages of this chat are forwarded under.
    session_key TEXT NOT NULL,
    -- 'pending' (Discord DM waiting for its token) | 'active' | 'unbound'
    status TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
-- One route, one tenant: enforced by the database, not only by the registry.
CREATE UNIQUE INDEX bindings_active_route ON bindings(channel, route_key) WHERE status = 'active';
CREATE INDEX bindings_tenant ON bindings(tenant_id, status);

CREATE TABLE session_routes (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    session_key TEXT NOT NULL,
    binding_id TEXT NOT NULL REFERENCES bindings(binding_id) ON DELETE CASCADE,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, channel, session_key)
);
CREATE INDEX session_routes_binding ON session_routes(binding_id);

CREATE TABLE pairing_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    session_key TEXT,
    -- Discord DM tokens issued for a known user: the pending binding they activate.
    route_key TEXT,
    pending_binding_id TEXT REFERENCES bindings(binding_id) ON DELETE SET NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    consumed_at_ms BIGINT,
    binding_id TEXT
);
CREATE INDEX pairing_tokens_expiry ON pairing_tokens(expires_at_ms);

CREATE TABLE pairing_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    channel TEXT NOT NULL,
    route_key TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at_ms BIGINT,
    created_at_ms BIGINT NOT NULL,
    claimed_at_ms BIGINT,
    claimed_by_tenant TEXT,
    binding_id TEXT
);

CREATE TABLE idempotency_keys (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    idem_key TEXT NOT NULL,
    -- 'reserved' | 'done'
    state TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER,
    response_body TEXT,
    -- The process instance that reserved it; a reservation of a dead instance is released at start.
    owner TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at_ms);

CREATE TABLE inbound_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    channel TEXT NOT NULL,
    event_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    session_key TEXT NOT NULL,
    envelope TEXT NOT NULL,
    -- 'pending' | 'delivered' | 'dead'
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX inbound_events_event ON inbound_events(channel, event_id);
CREATE INDEX inbound_events_tenant_state ON inbound_events(tenant_id, state, id);
CREATE INDEX inbound_events_due ON inbound_events(state, next_attempt_at_ms);

CREATE TABLE ingress_offsets (
    channel TEXT NOT NULL,
    -- '' for a channel-wide cursor (Telegram offset), else e.g. a Discord channel id.
    scope_key TEXT NOT NULL,
    cursor TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (channel, scope_key)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    at_ms BIGINT NOT NULL,
    tenant_id TEXT,
    -- 'tenant' | 'admin' | 'system' | 'chat'
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    -- JSON object with non-secret details
    detail TEXT
);
CREATE INDEX audit_log_tenant ON audit_log(tenant_id, id);
