//! A tenant as the store hands it out: who it is, whether it is enabled, where its inbound
//! messages go.

use secrecy::SecretString;

use super::status::TenantStatus;

/// Where a tenant's inbound messages go.
#[derive(Debug, Clone)]
pub struct InboundTarget {
    pub url: String,
    pub token: SecretString,
    pub timeout_ms: u64,
}

/// One tenant (its keys are kept apart: only their hashes, see the Registry).
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub status: TenantStatus,
    pub inbound: Option<InboundTarget>,
}
