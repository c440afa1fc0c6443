//! Secret hashing and random identifiers.
//!
//! API keys and pairing tokens are stored only as hashes (§1, §3.1). They are long uniformly random
//! strings, so a fast unsalted hash (BLAKE3) is enough: there is nothing to brute-force, and
//! lookups by hash stay a plain index hit.
//!
//! A database upgraded from the older service also holds that service's hashes (SHA-256 hex) of
//! tenant keys and pairing tokens, stored as `sha256:<hex>` so they can never be mistaken for a
//! BLAKE3 hash; [`legacy_hash_secret`] computes that form for a lookup that missed.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Prefix of tenant API keys, so leaked keys are recognisable by secret scanners.
pub const API_KEY_PREFIX: &str = "mux_";

/// Lowercase hex BLAKE3 digest of the secret's UTF-8 bytes (64 chars). This is what the database
/// stores.
pub fn hash_secret(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

/// Marks a hash carried over from the older service (it hashed keys and tokens with SHA-256).
pub const LEGACY_SHA256_PREFIX: &str = "sha256:";

/// `sha256:` + lowercase hex SHA-256 of the secret's UTF-8 bytes: how a key or pairing token of
/// the older service is stored after an upgrade. Only looked up after the BLAKE3 form missed.
pub fn legacy_hash_secret(secret: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(LEGACY_SHA256_PREFIX.len() + 64);
    out.push_str(LEGACY_SHA256_PREFIX);
    for b in digest {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A new tenant API key: `mux_` + 43 URL-safe base64 chars (32 bytes, 256 bits of entropy).
pub fn generate_api_key() -> String {
    format!(
        "{API_KEY_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(os_random::<32>())
    )
}

/// A new opaque row id such as `bind_…` or `key_…`: the prefix + 24 lowercase hex chars (96 random
/// bits, so collisions are not a practical concern and ids reveal no ordering).
pub fn new_id(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 24);
    id.push_str(prefix);
    for b in os_random::<12>() {
        // Writing to a String cannot fail.
        let _ = write!(id, "{b:02x}");
    }
    id
}

/// Compares without an early exit, so the time taken does not tell how much of a guess was right
/// (webhook secrets, verify tokens, signatures).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `N` bytes from the OS CSPRNG.
///
/// Panics if the OS has no working randomness source. There is no safe fallback for minting
/// credentials, and on any platform this service supports the call does not fail once the process
/// is running, so a loud stop beats handing out guessable secrets.
pub(crate) fn os_random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if let Err(e) = getrandom::fill(&mut buf) {
        panic!("OS random number generator failed: {e}");
    }
    buf
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is how a test fails
mod tests {
    use super::*;

    #[test]
    fn hash_secret_is_lowercase_hex_blake3_of_the_utf8_bytes() {
        // Published BLAKE3 digest of the empty input.
        assert_eq!(
            hash_secret(""),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        let h = hash_secret("mux_secret");
        assert_eq!(h.len(), 64);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(h, hash_secret("mux_secret"));
        assert_ne!(h, hash_secret("mux_secreT"));
        assert_eq!(
            hash_secret("é"),
            blake3::hash("é".as_bytes()).to_hex().to_string()
        );
    }

    #[test]
    fn legacy_hashes_are_prefixed_lowercase_hex_sha256() {
        // Published SHA-256 digest of "abc".
        assert_eq!(
            legacy_hash_secret("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(legacy_hash_secret("abc"), hash_secret("abc"));
    }

    #[test]
    fn api_keys_are_prefixed_url_safe_and_unique() {
        let a = generate_api_key();
        let b = generate_api_key();
        assert_ne!(a, b);
        let body = a.strip_prefix("mux_").unwrap();
        assert_eq!(body.len(), 43);
        assert!(
            body.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
    }

    #[test]
    fn new_id_is_prefix_plus_24_lowercase_hex_chars() {
        let id = new_id("bind_");
        let hex = id.strip_prefix("bind_").unwrap();
        assert_eq!(hex.len(), 24);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(new_id("key_"), new_id("key_"));
        assert_eq!(new_id("").len(), 24);
    }

    #[test]
    fn constant_time_eq_needs_equal_length_and_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
