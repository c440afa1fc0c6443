//! The opaque `fileRef` of a platform file (contract §5a) and the proxy URL a tenant fetches it
//! from. A reference is a hash of what fetches the file (Telegram `file_id`, WhatsApp media id,
//! Discord CDN URL): it says nothing about the locator, holds no token, and the same file gets
//! the same reference every time it is seen. Who may fetch it is `db::file_grants`' business.

use super::Channel;

/// Hex characters in a reference.
const REF_LEN: usize = 32;

/// The reference of the file `locator` fetches on `channel`.
pub fn file_ref(channel: Channel, locator: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"mux-file-ref\0");
    hasher.update(channel.as_str().as_bytes());
    hasher.update(b"\0");
    hasher.update(locator.as_bytes());
    let hex = hasher.finalize().to_hex();
    hex[..REF_LEN].to_owned()
}

/// Whether `s` can be a reference at all (32 lowercase hex characters).
pub fn is_file_ref(s: &str) -> bool {
    s.len() == REF_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `<base>/v1/mux/files/<channel>/<fileRef>`; `base` is `MUX_PUBLIC_URL` or empty (a path).
pub fn proxy_url(base: &str, channel: Channel, file_ref: &str) -> String {
    format!("{base}/v1/mux/files/{}/{file_ref}", channel.as_str())
}

/// How long a tenant may fetch a file after it arrived: as long as the platform keeps the
/// locator usable — a Telegram `file_id` does not expire (kept 30 days), a WhatsApp media id
/// lives 7 days, a Discord CDN URL is signed for about a day.
pub fn grant_ttl_ms(channel: Channel) -> i64 {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    match channel {
        Channel::Telegram => 30 * DAY_MS,
        Channel::Whatsapp => 7 * DAY_MS,
        Channel::Discord => DAY_MS,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn references_are_stable_per_channel_and_well_formed() {
        let a = file_ref(Channel::Telegram, "AgADBAAD");
        assert_eq!(a, file_ref(Channel::Telegram, "AgADBAAD"));
        assert_ne!(a, file_ref(Channel::Whatsapp, "AgADBAAD"));
        assert!(is_file_ref(&a));
        assert!(!is_file_ref("../../etc/passwd"));
        assert!(!is_file_ref(&a.to_uppercase()));
        assert_eq!(
            proxy_url("", Channel::Discord, &a),
            format!("/v1/mux/files/discord/{a}")
        );
    }

    proptest! {
        #[test]
        fn any_locator_gives_a_reference_without_it(locator in ".{0,200}") {
            let r = file_ref(Channel::Discord, &locator);
            prop_assert!(is_file_ref(&r));
            prop_assert!(locator.len() < 8 || !r.contains(&locator));
        }
    }
}
