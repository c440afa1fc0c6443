// @generated-style diesel schema, kept in step with migrations/ (see diesel.toml).

diesel::table! {
    tenants (id) {
        id -> Text,
        name -> Text,
        status -> Text,
        inbound_url -> Nullable<Text>,
        inbound_token -> Nullable<Text>,
        inbound_timeout_ms -> Nullable<BigInt>,
        inbound_target_source -> Nullable<Text>,
        created_at_ms -> BigInt,
        updated_at_ms -> BigInt,
    }
}

diesel::table! {
    tenant_api_keys (key_id) {
        key_id -> Text,
        tenant_id -> Text,
        key_hash -> Text,
        label -> Nullable<Text>,
        created_at_ms -> BigInt,
        revoked_at_ms -> Nullable<BigInt>,
    }
}

diesel::table! {
    bindings (binding_id) {
        binding_id -> Text,
        tenant_id -> Text,
        channel -> Text,
        scope -> Text,
        route_key -> Text,
        session_key -> Text,
        status -> Text,
        created_at_ms -> BigInt,
        updated_at_ms -> BigInt,
    }
}

diesel::table! {
    session_routes (tenant_id, channel, session_key) {
        tenant_id -> Text,
        channel -> Text,
        session_key -> Text,
        binding_id -> Text,
        created_at_ms -> BigInt,
    }
}

diesel::table! {
    pairing_tokens (token_hash) {
        token_hash -> Text,
        tenant_id -> Text,
        channel -> Text,
        session_key -> Nullable<Text>,
        route_key -> Nullable<Text>,
        pending_binding_id -> Nullable<Text>,
        created_at_ms -> BigInt,
        expires_at_ms -> BigInt,
        consumed_at_ms -> Nullable<BigInt>,
        binding_id -> Nullable<Text>,
    }
}

diesel::table! {
    pairing_codes (code_hash) {
        code_hash -> Text,
        channel -> Text,
        route_key -> Text,
        scope -> Text,
        expires_at_ms -> Nullable<BigInt>,
        created_at_ms -> BigInt,
        claimed_at_ms -> Nullable<BigInt>,
        claimed_by_tenant -> Nullable<Text>,
        binding_id -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (tenant_id, idem_key) {
        tenant_id -> Text,
        idem_key -> Text,
        state -> Text,
        fingerprint -> Text,
        status_code -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        owner -> Text,
        created_at_ms -> BigInt,
        expires_at_ms -> BigInt,
        sent_ids -> Nullable<Text>,
    }
}

diesel::table! {
    store_probe (id) {
        id -> Integer,
        at_ms -> BigInt,
    }
}

diesel::table! {
    inbound_events (id) {
        id -> Integer,
        channel -> Text,
        event_id -> Text,
        tenant_id -> Text,
        session_key -> Text,
        envelope -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at_ms -> BigInt,
        last_error -> Nullable<Text>,
        created_at_ms -> BigInt,
        updated_at_ms -> BigInt,
    }
}

diesel::table! {
    ingress_offsets (channel, scope_key) {
        channel -> Text,
        scope_key -> Text,
        cursor -> Text,
        updated_at_ms -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Integer,
        at_ms -> BigInt,
        tenant_id -> Nullable<Text>,
        actor -> Text,
        action -> Text,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    file_grants (channel, file_ref, tenant_id) {
        channel -> Text,
        file_ref -> Text,
        tenant_id -> Text,
        locator -> Text,
        expires_at_ms -> BigInt,
    }
}

diesel::joinable!(tenant_api_keys -> tenants (tenant_id));
diesel::joinable!(bindings -> tenants (tenant_id));
diesel::joinable!(session_routes -> bindings (binding_id));
diesel::joinable!(inbound_events -> tenants (tenant_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    tenant_api_keys,
    bindings,
    session_routes,
    pairing_tokens,
    pairing_codes,
    idempotency_keys,
    store_probe,
    file_grants,
    inbound_events,
    ingress_offsets,
    audit_log,
);
