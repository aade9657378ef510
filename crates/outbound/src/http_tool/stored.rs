//! The rules of stored headers (an HTTP tool's, an MCP server's): how many, how long, no
//! NUL, well-formed `{{secret:NAME}}` references, nothing the client sets itself
//! ([`super::check_header`]), no name twice; `•••` ([`MASK`]) stands for a stored value.

use std::collections::BTreeMap;

/// Most headers of one tool or server.
pub const HEADERS_MAX: usize = 32;
/// Longest header value, in bytes.
pub const HEADER_VALUE_MAX: usize = 4096;
/// What a response shows instead of each header value; sent back in an update, it keeps
/// the stored value of that header.
pub const MASK: &str = "•••";

/// What is wrong with `headers`: `(None, message)` for the whole map, `(Some(name),
/// message)` for one header. `reserved` names (lowercase) the caller's transport sets itself.
pub fn stored_header_problems(headers: &BTreeMap<String, String>, reserved: &[&str]) -> Vec<(Option<String>, String)> {
    let mut problems = Vec::new();
    if headers.len() > HEADERS_MAX {
        problems.push((None, format!("must have at most {HEADERS_MAX} headers")));
    }
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        let problem = if seen.contains(&lower) {
            Some("is given twice (header names ignore case)".to_owned())
        } else if reserved.contains(&lower.as_str()) {
            Some(format!(
                "the header `{name}` is set by the transport itself and cannot be given"
            ))
        } else {
            header_problem(name, value)
        };
        seen.push(lower);
        if let Some(message) = problem {
            problems.push((Some(name.clone()), message));
        }
    }
    problems
}

/// Why one header cannot be stored, if it cannot.
fn header_problem(name: &str, value: &str) -> Option<String> {
    if value == MASK {
        // Resolved against the stored value by the service.
        return super::check_header(name, "x").err();
    }
    if value.len() > HEADER_VALUE_MAX {
        return Some(format!("the value must be at most {HEADER_VALUE_MAX} bytes"));
    }
    if value.contains('\0') {
        return Some("the value must not contain the NUL character (\\u0000)".to_owned());
    }
    if let Some(problem) = secret_reference_problem(value) {
        return Some(problem);
    }
    super::check_header(name, value).err()
}

/// Every `{{secret:` must open a reference `{{secret:NAME}}` with NAME `^[A-Za-z0-9_]{1,64}$`.
fn secret_reference_problem(value: &str) -> Option<String> {
    const OPEN: &str = "{{secret:";
    let mut rest = value;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let name = after.split("}}").next().unwrap_or_default();
        let closed = after.len() > name.len();
        let valid = (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !closed || !valid {
            return Some(
                "holds a malformed secret reference: write `{{secret:NAME}}`, NAME of 1 to 64 letters, digits or `_`"
                    .to_owned(),
            );
        }
        rest = &after[name.len() + 2..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_references_are_well_formed_or_refused() {
        for ok in [
            "Bearer {{secret:KEY}}",
            "{{secret:a_1}}-{{secret:B}}",
            "plain",
            "{{other}}",
            "{{secret}}",
        ] {
            assert_eq!(secret_reference_problem(ok), None, "{ok}");
        }
        for bad in [
            "{{secret:}}",
            "{{secret:has-dash}}",
            "Bearer {{secret:KEY",
            "{{secret:KEY}} {{secret:x y}}",
            &format!("{{{{secret:{}}}}}", "A".repeat(65)),
        ] {
            assert!(secret_reference_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn reserved_repeated_and_oversize_headers_are_named() {
        let headers = BTreeMap::from([
            ("Accept".to_owned(), "x".to_owned()),
            ("X-Key".to_owned(), MASK.to_owned()),
            ("X-Long".to_owned(), "a".repeat(HEADER_VALUE_MAX + 1)),
        ]);
        let named: Vec<Option<String>> = stored_header_problems(&headers, &["accept"])
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(named, [Some("Accept".to_owned()), Some("X-Long".to_owned())]);
        let many: BTreeMap<String, String> = (0..=HEADERS_MAX).map(|i| (format!("X-{i}"), "v".to_owned())).collect();
        assert_eq!(stored_header_problems(&many, &[])[0].0, None);
    }
}
