//! Pairing tokens (§3.1, §3.2): minting, spotting them in chat messages, and the `ttlSec` rules.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::secrets::os_random;

/// Every pairing token starts with this, which is how a token word is told apart from ordinary chat
/// text.
pub const TOKEN_PREFIX: &str = "mpt_";
/// Shortest body (after the prefix) accepted when redeeming (§3.2). Looser than the 32 chars we
/// mint, so tokens of other lengths issued by the older service still redeem.
pub const TOKEN_BODY_MIN: usize = 20;
/// Longest body accepted when redeeming (§3.2); a longer run is not a token and is not truncated.
pub const TOKEN_BODY_MAX: usize = 200;

/// A fresh token: `mpt_` + 32 URL-safe base64 chars encoding 24 bytes from the OS CSPRNG (192
/// bits).
pub fn generate_pairing_token() -> String {
    format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(os_random::<24>())
    )
}

/// Whether `b` belongs to the token alphabet `[A-Za-z0-9_-]`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The first token word in `text`, if any.
///
/// A token word is a *maximal* run of `[A-Za-z0-9_-]` that starts with `mpt_` followed by 20–200
/// characters. Taking the run whole (rather than a regex with `\b`) matters: tokens may end in `-`
/// or `_`, which a word boundary would cut off, and an over-long run must be rejected rather than
/// truncated into a different token. This covers `/start <token>`, `/start@bot <token>` and a token
/// anywhere in free text.
///
/// The alphabet is ASCII and every byte of a multi-byte UTF-8 character is ≥ 0x80, so runs found by
/// scanning bytes always start and end on character boundaries; slicing with `get` keeps that
/// panic-free regardless.
pub fn extract_token(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes.get(i).copied().is_some_and(is_token_byte) {
            i += 1;
            continue;
        }
        let start = i;
        while bytes.get(i).copied().is_some_and(is_token_byte) {
            i += 1;
        }
        if let Some(word) = text.get(start..i)
            && let Some(body) = word.strip_prefix(TOKEN_PREFIX)
            && (TOKEN_BODY_MIN..=TOKEN_BODY_MAX).contains(&body.len())
        {
            return Some(word);
        }
    }
    None
}

/// The `ttlSec` of a token request was present but not a number (§3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("ttlSec must be a positive integer")]
pub struct TtlError;

/// Reads `ttlSec` leniently, as the older service did: numbers and numeric strings are accepted
/// (fractions truncated, out-of-range values saturated); range checks are left to [`clamp_ttl`].
/// Only values that are not numbers at all are an error, so a typo like `"soon"` is reported
/// instead of silently getting the default.
pub fn parse_ttl(value: Option<&serde_json::Value>) -> Result<Option<i64>, TtlError> {
    use serde_json::Value;
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else if n.as_u64().is_some() {
                Ok(Some(i64::MAX))
            } else {
                n.as_f64().and_then(finite_to_i64).map(Some).ok_or(TtlError)
            }
        }
        Some(Value::String(s)) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(i) => Ok(Some(i)),
                Err(_) => s
                    .parse::<f64>()
                    .ok()
                    .and_then(finite_to_i64)
                    .map(Some)
                    .ok_or(TtlError),
            }
        }
        Some(_) => Err(TtlError),
    }
}

/// Truncates toward zero; `as` saturates at the i64 bounds. NaN and infinities are not numbers a
/// user meant.
fn finite_to_i64(f: f64) -> Option<i64> {
    f.is_finite().then_some(f as i64)
}

/// The TTL to use: the request's when positive, else the default; never more than `max_sec` (§3.1).
pub fn clamp_ttl(requested: Option<i64>, default_sec: u64, max_sec: u64) -> u64 {
    let ttl = match requested {
        Some(v) if v > 0 => v.unsigned_abs(),
        _ => default_sec,
    };
    ttl.min(max_sec)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is how a test fails
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn body(n: usize) -> String {
        "aB3_-".chars().cycle().take(n).collect()
    }

    #[test]
    fn generated_tokens_are_32_url_safe_chars_after_the_prefix_and_extractable() {
        let t = generate_pairing_token();
        let b = t.strip_prefix(TOKEN_PREFIX).unwrap();
        assert_eq!(b.len(), 32);
        assert!(b.bytes().all(is_token_byte));
        assert_ne!(t, generate_pairing_token());
        assert_eq!(extract_token(&format!("/start {t}")), Some(t.as_str()));
    }

    #[test]
    fn start_commands_and_bare_words_yield_the_token() {
        let t = format!("mpt_{}", body(32));
        assert_eq!(extract_token(&t), Some(t.as_str()));
        assert_eq!(extract_token(&format!("/start {t}")), Some(t.as_str()));
        assert_eq!(
            extract_token(&format!("/start@my_bot {t}")),
            Some(t.as_str())
        );
        assert_eq!(
            extract_token(&format!("here is my code: {t}")),
            Some(t.as_str())
        );
        assert_eq!(extract_token(&format!("({t}).")), Some(t.as_str()));
    }

    #[test]
    fn a_token_ending_in_dash_or_underscore_is_taken_whole() {
        for t in [
            format!("mpt_{}-", body(24)),
            format!("mpt_{}_", body(24)),
            format!("mpt_{}--__", body(20)),
        ] {
            assert_eq!(extract_token(&format!("/start {t}")), Some(t.as_str()));
            assert_eq!(extract_token(&format!("{t} thanks")), Some(t.as_str()));
        }
    }

    #[test]
    fn body_length_must_be_between_20_and_200() {
        assert_eq!(extract_token(&format!("mpt_{}", body(19))), None);
        let t20 = format!("mpt_{}", body(20));
        assert_eq!(extract_token(&t20), Some(t20.as_str()));
        let t200 = format!("mpt_{}", body(200));
        assert_eq!(extract_token(&format!("x {t200} y")), Some(t200.as_str()));
        assert_eq!(extract_token(&format!("x mpt_{} y", body(201))), None);
    }

    #[test]
    fn the_prefix_inside_a_longer_word_is_not_a_token() {
        assert_eq!(extract_token(&format!("xmpt_{}", body(30))), None);
        assert_eq!(extract_token(&format!("a-mpt_{}", body(30))), None);
        assert_eq!(extract_token(&format!("_mpt_{}", body(30))), None);
        assert_eq!(extract_token(&format!("MPT_{}", body(30))), None);
        assert_eq!(extract_token("mpt_"), None);
        assert_eq!(extract_token(""), None);
    }

    #[test]
    fn a_valid_second_word_is_found_after_an_invalid_first() {
        let good = format!("mpt_{}", body(25));
        let text = format!(
            "mpt_short xmpt_{} mpt_{} {good} mpt_{}",
            body(30),
            body(300),
            body(40)
        );
        assert_eq!(extract_token(&text), Some(good.as_str()));
    }

    #[test]
    fn non_ascii_text_around_the_token_is_a_separator() {
        let t = format!("mpt_{}", body(30));
        assert_eq!(extract_token(&format!("héllo→{t}日本語")), Some(t.as_str()));
        assert_eq!(extract_token(&format!("🎉{t}🎉")), Some(t.as_str()));
        assert_eq!(
            extract_token(&format!("mpt_{}é{}", body(10), body(30))),
            None
        );
    }

    #[test]
    fn parse_ttl_accepts_absent_null_numbers_and_numeric_strings() {
        assert_eq!(parse_ttl(None), Ok(None));
        assert_eq!(parse_ttl(Some(&json!(null))), Ok(None));
        assert_eq!(parse_ttl(Some(&json!(600))), Ok(Some(600)));
        assert_eq!(parse_ttl(Some(&json!(-5))), Ok(Some(-5)));
        assert_eq!(parse_ttl(Some(&json!(90.9))), Ok(Some(90)));
        assert_eq!(parse_ttl(Some(&json!(u64::MAX))), Ok(Some(i64::MAX)));
        assert_eq!(parse_ttl(Some(&json!(1e300))), Ok(Some(i64::MAX)));
        assert_eq!(parse_ttl(Some(&json!(-1e300))), Ok(Some(i64::MIN)));
        assert_eq!(parse_ttl(Some(&json!(" 120 "))), Ok(Some(120)));
        assert_eq!(parse_ttl(Some(&json!("12.7"))), Ok(Some(12)));
        assert_eq!(
            parse_ttl(Some(&json!("99999999999999999999"))),
            Ok(Some(i64::MAX))
        );
    }

    #[test]
    fn parse_ttl_rejects_non_numbers_with_the_contract_message() {
        for v in [
            json!(true),
            json!({}),
            json!([1]),
            json!("soon"),
            json!(""),
            json!("NaN"),
            json!("inf"),
            json!("1e999"),
        ] {
            assert_eq!(parse_ttl(Some(&v)), Err(TtlError), "{v}");
        }
        assert_eq!(TtlError.to_string(), "ttlSec must be a positive integer");
    }

    #[test]
    fn clamp_ttl_uses_the_default_for_missing_or_non_positive_and_caps_at_max() {
        assert_eq!(clamp_ttl(None, 900, 3600), 900);
        assert_eq!(clamp_ttl(Some(0), 900, 3600), 900);
        assert_eq!(clamp_ttl(Some(-1), 900, 3600), 900);
        assert_eq!(clamp_ttl(Some(60), 900, 3600), 60);
        assert_eq!(clamp_ttl(Some(99_999), 900, 3600), 3600);
        assert_eq!(clamp_ttl(Some(i64::MAX), 900, 3600), 3600);
        assert_eq!(clamp_ttl(None, 900, 300), 300);
    }

    fn json_ish() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            "\\PC{0,30}".prop_map(serde_json::Value::from),
            "[-+ ]?[0-9]{0,25}(\\.[0-9]{0,5})?([eE][-+]?[0-9]{1,4})? ?"
                .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(2, 8, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::hash_map("[a-z]{0,4}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A char that may border a token word.
    fn is_boundary(c: Option<char>) -> bool {
        c.is_none_or(|c| !c.is_ascii() || !is_token_byte(c as u8))
    }

    proptest! {
        #[test]
        fn extract_token_never_panics_and_returns_a_whole_token_word(
            text in "(\\PC|mpt_|[A-Za-z0-9_-]{1,30}|[ /@é日🎉]){0,40}"
        ) {
            if let Some(tok) = extract_token(&text) {
                let start = (tok.as_ptr() as usize) - (text.as_ptr() as usize);
                let end = start + tok.len();
                prop_assert_eq!(text.get(start..end), Some(tok));
                let body = tok.strip_prefix(TOKEN_PREFIX).unwrap_or("");
                prop_assert!((20..=200).contains(&body.len()));
                prop_assert!(body.bytes().all(is_token_byte));
                prop_assert!(is_boundary(text[..start].chars().next_back()));
                prop_assert!(is_boundary(text[end..].chars().next()));
            }
        }

        #[test]
        fn a_token_word_between_separators_is_found_whole(
            pre in "[^A-Za-z0-9_-]{0,10}", body in "[A-Za-z0-9_-]{20,200}",
            post in "([^A-Za-z0-9_-][\\PC]{0,10})?"
        ) {
            let tok = format!("mpt_{body}");
            let text = format!("{pre}{tok}{post}");
            prop_assert_eq!(extract_token(&text), Some(tok.as_str()));
        }

        #[test]
        fn extract_token_never_panics_on_any_string(text in any::<String>()) {
            let _ = extract_token(&text);
        }

        #[test]
        fn parse_ttl_never_panics_on_json_ish_input(v in json_ish()) {
            let _ = parse_ttl(Some(&v));
        }

        #[test]
        fn clamp_ttl_stays_within_one_and_max_when_default_is_positive(
            req in proptest::option::of(any::<i64>()), default in 1..=u64::MAX, max in 1..=u64::MAX
        ) {
            let ttl = clamp_ttl(req, default, max);
            prop_assert!((1..=max).contains(&ttl));
        }
    }
}
