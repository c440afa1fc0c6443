//! The fingerprint of an outbound request body, stored with its `Idempotency-Key`: the same key
//! with the same JSON replays the stored answer, with another body it is a conflict (contract §5).
//! Shared by the outbound handler and the upgrade from the older service, which stored the body
//! text itself and whose fingerprints are recomputed this way.

use serde_json::Value;

use super::secrets::hash_secret;

/// BLAKE3 of the body re-serialised with object keys sorted at every level, so the same JSON
/// matches whatever its whitespace and key order.
pub fn request_fingerprint(body: &Value) -> String {
    let mut canonical = String::new();
    write_canonical(body, &mut canonical);
    hash_secret(&canonical)
}

/// JSON with object keys sorted at every level, so that the fingerprint does not depend on key
/// order (nor on whether serde_json's `preserve_order` is switched on somewhere in the build).
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(raw: &str) -> String {
        let mut out = String::new();
        write_canonical(&serde_json::from_str(raw).expect("json"), &mut out);
        out
    }

    #[test]
    fn the_fingerprint_ignores_key_order_and_whitespace_only() {
        assert_eq!(
            canon(r#"{"b":[1,{"y":2,"x":1}],"a":"t"}"#),
            r#"{"a":"t","b":[1,{"x":1,"y":2}]}"#
        );
        assert_eq!(canon(r#"{ "a" : 1, "b":2 }"#), canon(r#"{"b":2,"a":1}"#));
        assert_ne!(canon(r#"{"a":"x "}"#), canon(r#"{"a":"x"}"#));
        let body = |raw: &str| request_fingerprint(&serde_json::from_str(raw).expect("json"));
        assert_eq!(
            body(r#"{"a":1,"b":[2]}"#),
            body("{ \"b\" : [2],\n \"a\":1}")
        );
    }
}
