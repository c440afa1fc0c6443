//! Pure domain types and rules shared by the API, the actors and the database layer: channels and
//! route keys, pairing tokens, secret handling and the inbound URL policy. Nothing here does I/O
//! (apart from reading OS randomness), so all of it is unit- and property-tested in place.

pub mod binding;
pub mod channel;
pub mod file_ref;
pub mod fingerprint;
pub mod pairing_token;
pub mod parse_mode;
pub mod route_key;
pub mod secrets;
pub mod status;
pub mod tenant;
pub mod url_policy;

pub use binding::{Binding, Paired, SessionRoute};
pub use channel::{Channel, Scope};
pub use fingerprint::request_fingerprint;
pub use pairing_token::{
    TOKEN_PREFIX, TtlError, clamp_ttl, extract_token, generate_pairing_token, parse_ttl,
};
pub use parse_mode::ParseMode;
pub use route_key::{RouteKey, RouteKeyError, whatsapp_jid};
pub use secrets::{generate_api_key, hash_secret, legacy_hash_secret, new_id};
pub use status::{BindingStatus, EventState, TenantStatus};
pub use tenant::{InboundTarget, Tenant};
pub use url_policy::{InboundUrlAllow, UrlPolicyError};
