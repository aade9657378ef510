//! `{param}` placeholders in an HTTP tool's URL.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

/// Everything but the unreserved characters: safe as a path segment and in a query.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `template` with every `{name}` replaced by the argument `name`, percent-encoded;
/// returns the URL text and the names used. A `{…}` holding `{`, `/`, `?` or `#`, or
/// nothing, is not a placeholder.
pub(crate) fn fill(template: &str, arguments: &Map<String, Value>) -> Result<(String, Vec<String>), String> {
    let mut url = String::with_capacity(template.len());
    let mut used: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        url.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let name = after
            .find('}')
            .map(|end| &after[..end])
            .filter(|name| is_placeholder(name));
        let Some(name) = name else {
            url.push('{');
            rest = after;
            continue;
        };
        let value = arguments
            .get(name)
            .ok_or_else(|| format!("the argument `{name}` is missing: the URL needs it"))?;
        url.extend(utf8_percent_encode(&plain_text(value), COMPONENT));
        if !used.iter().any(|known| known == name) {
            used.push(name.to_owned());
        }
        rest = &after[name.len() + 1..];
    }
    url.push_str(rest);
    Ok((url, used))
}

fn is_placeholder(name: &str) -> bool {
    !name.is_empty() && !name.contains(['{', '/', '?', '#'])
}

/// An argument as text: a string as-is, any other value as JSON text.
pub(crate) fn plain_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn arguments(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("an object"),
        }
    }

    #[test]
    fn placeholders_are_filled_and_encoded() {
        let args = arguments(json!({"id": "a/b c?d#é", "n": 7, "flag": true, "unused": 1}));
        let (url, used) = fill("https://x.example/items/{id}/{n}/{flag}/{id}", &args).expect("filled");
        assert_eq!(
            url,
            "https://x.example/items/a%2Fb%20c%3Fd%23%C3%A9/7/true/a%2Fb%20c%3Fd%23%C3%A9"
        );
        assert_eq!(used, ["id", "n", "flag"]);
    }

    #[test]
    fn a_missing_argument_is_named() {
        let err = fill("https://x.example/{city}", &Map::new()).expect_err("missing");
        assert!(err.contains("`city`"), "{err}");
    }

    #[test]
    fn braces_that_are_no_placeholder_stay() {
        let (url, used) = fill("https://x.example/{}/{a/b}/{open", &Map::new()).expect("filled");
        assert_eq!(url, "https://x.example/{}/{a/b}/{open");
        assert!(used.is_empty());
    }
}
