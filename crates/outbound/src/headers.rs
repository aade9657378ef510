//! Which headers a call may carry; the same rule when a tool is saved, prepared and sent.

use reqwest::header::{HeaderName, HeaderValue};

/// Headers the client derives from the request itself: a caller's value would contradict
/// the message framing (request smuggling towards the endpoint) or the connection handling.
const SET_BY_THE_CLIENT: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

/// `name` and `value` as sent (the value marked sensitive: it may hold a secret), or why
/// they cannot be; the reason names the header, never the value.
pub(crate) fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let header_name =
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("`{name}` is not a valid header name"))?;
    if SET_BY_THE_CLIENT.contains(&header_name.as_str()) {
        return Err(format!(
            "the header `{name}` is set by the client itself and cannot be given"
        ));
    }
    let mut header_value = HeaderValue::from_str(value)
        .map_err(|_| format!("the value of the header `{name}` is not allowed in an HTTP header"))?;
    header_value.set_sensitive(true);
    Ok((header_name, header_value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_headers_and_bad_names_or_values_are_refused_by_name() {
        assert!(parse_header("Authorization", "Bearer x").is_ok());
        assert!(parse_header("X-Api-Key", "{{secret:KEY}}").is_ok());
        for name in ["Host", "content-length", "Transfer-Encoding", "Connection", "TE"] {
            let err = parse_header(name, "x").expect_err(name);
            assert!(err.contains(&format!("`{name}`")), "{err}");
        }
        let err = parse_header("Bad Name", "x").expect_err("bad name");
        assert!(err.contains("`Bad Name`"), "{err}");
        let err = parse_header("X-Key", "line\r\nInjected: yes").expect_err("bad value");
        assert!(err.contains("`X-Key`") && !err.contains("Injected"), "{err}");
    }

    #[test]
    fn values_are_sensitive() {
        let (_, value) = parse_header("Authorization", "Bearer x").expect("valid");
        assert!(value.is_sensitive());
    }
}
