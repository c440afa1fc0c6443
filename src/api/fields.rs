//! Typed reads of a JSON request body's known fields (contract §5 step 1): a field of the wrong
//! JSON type is `400 <field> must be <type>`, never coerced or ignored; `null` reads as absent.
//! The body itself must be an object.

use serde_json::{Map, Value};

use super::error::ApiError;

/// The fields of a JSON object body.
#[derive(Debug)]
pub struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    pub fn of(body: &'a Value) -> Result<Fields<'a>, ApiError> {
        match body {
            Value::Object(map) => Ok(Fields(map)),
            _ => Err(ApiError::bad_request(
                "invalid JSON body: expected an object",
            )),
        }
    }

    /// The field's value; `null` counts as absent.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A string field, as given (blank strings included).
    pub fn string(&self, name: &'static str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(wrong(name, "a string")),
        }
    }

    /// An id that clients send either way (`"123"` or `123`): a string, or an integer as its
    /// decimal text.
    pub fn id(&self, name: &'static str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
            Some(_) => Err(wrong(name, "a string or integer")),
        }
    }

    /// An array of strings, in order, duplicates included.
    pub fn strings(&self, name: &'static str) -> Result<Option<Vec<String>>, ApiError> {
        let err = || wrong(name, "an array of strings");
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(err))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(err()),
        }
    }

    /// An object field.
    pub fn object(&self, name: &'static str) -> Result<Option<&'a Value>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v)),
            Some(_) => Err(wrong(name, "an object")),
        }
    }
}

fn wrong(name: &str, ty: &str) -> ApiError {
    ApiError::bad_request(format!("{name} must be {ty}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn msg<T: std::fmt::Debug>(r: Result<T, ApiError>) -> String {
        r.expect_err("a 400").error.into_owned()
    }

    #[test]
    fn wrong_types_name_the_field_and_the_type() {
        let body =
            json!({"s": 12, "i": true, "f": 1.5, "a": "x", "b": ["x", 1], "o": [], "n": null});
        let f = Fields::of(&body).expect("object");
        assert_eq!(msg(f.string("s")), "s must be a string");
        assert_eq!(msg(f.id("i")), "i must be a string or integer");
        assert_eq!(msg(f.id("f")), "f must be a string or integer");
        assert_eq!(msg(f.strings("a")), "a must be an array of strings");
        assert_eq!(msg(f.strings("b")), "b must be an array of strings");
        assert_eq!(msg(f.object("o")), "o must be an object");
        assert_eq!(f.string("n").expect("null is absent"), None);
        assert_eq!(f.string("missing").expect("absent"), None);
        assert_eq!(
            msg(Fields::of(&json!([1]))),
            "invalid JSON body: expected an object"
        );
    }

    #[test]
    fn ids_read_strings_and_integers_and_lists_keep_duplicates() {
        let body = json!({"t": 7, "u": "8", "m": ["a", "a"]});
        let f = Fields::of(&body).expect("object");
        assert_eq!(f.id("t").expect("int").as_deref(), Some("7"));
        assert_eq!(f.id("u").expect("str").as_deref(), Some("8"));
        assert_eq!(
            f.strings("m").expect("list"),
            Some(vec!["a".to_owned(), "a".to_owned()])
        );
    }
}
