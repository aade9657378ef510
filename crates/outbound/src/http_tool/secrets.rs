//! `{{secret:NAME}}` references in header values.

/// Opens a reference; the name runs to the next `}}`.
const OPEN: &str = "{{secret:";
const CLOSE: &str = "}}";

/// A piece of a header value: literal text or a reference to a secret.
enum Piece<'a> {
    Text(&'a str),
    Secret(&'a str),
}

/// Splits `value` into text and references. A `{{secret:…}}` whose name is not a secret
/// name (`^[A-Za-z0-9_]{1,64}$`) is left as text.
fn pieces(value: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find(CLOSE) else { break };
        let name = &after[..end];
        if is_secret_name(name) {
            pieces.push(Piece::Text(&rest[..start]));
            pieces.push(Piece::Secret(name));
            rest = &after[end + CLOSE.len()..];
        } else {
            pieces.push(Piece::Text(&rest[..start + OPEN.len()]));
            rest = after;
        }
    }
    pieces.push(Piece::Text(rest));
    pieces
}

fn is_secret_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Every secret name referenced by these header values, each once, in order of appearance.
pub fn secret_names(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, value) in headers {
        for piece in pieces(value) {
            if let Piece::Secret(name) = piece
                && !names.iter().any(|known| known == name)
            {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// `value` with every reference replaced by its secret; a missing secret is an error
/// naming it (never a value).
pub(crate) fn fill(value: &str, secrets: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut filled = String::with_capacity(value.len());
    for piece in pieces(value) {
        match piece {
            Piece::Text(text) => filled.push_str(text),
            Piece::Secret(name) => {
                let secret = secrets(name).ok_or_else(|| format!("the secret `{name}` is not set"))?;
                filled.push_str(&secret);
            }
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> Vec<(String, String)> {
        values
            .iter()
            .map(|value| ("X".to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn names_are_listed_once_in_order() {
        let headers = headers(&[
            "Bearer {{secret:API_KEY}}",
            "{{secret:a}}-{{secret:API_KEY}}{{secret:b_2}}",
            "{{secret:not a name}} {{secret:}} {{secret:open",
            "plain",
        ]);
        assert_eq!(secret_names(&headers), ["API_KEY", "a", "b_2"]);
    }

    #[test]
    fn references_are_filled_and_a_missing_one_is_named() {
        let secrets = |name: &str| (name == "KEY").then(|| "s3cr3t".to_owned());
        assert_eq!(
            fill("Bearer {{secret:KEY}}", &secrets).expect("filled"),
            "Bearer s3cr3t"
        );
        assert_eq!(
            fill("{{secret:KEY}}{{secret:KEY}}", &secrets).expect("filled"),
            "s3cr3ts3cr3t"
        );
        assert_eq!(
            fill("{{secret:x y}} {{KEY}}", &secrets).expect("left as is"),
            "{{secret:x y}} {{KEY}}"
        );
        assert_eq!(
            fill("{{secret:OTHER}}", &secrets).expect_err("missing"),
            "the secret `OTHER` is not set"
        );
    }

    #[test]
    fn a_secret_value_is_not_expanded_again() {
        let secrets = |name: &str| match name {
            "A" => Some("{{secret:B}}".to_owned()),
            _ => None,
        };
        assert_eq!(fill("{{secret:A}}", &secrets).expect("filled"), "{{secret:B}}");
    }
}
