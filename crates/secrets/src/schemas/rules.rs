//! The rules of secret names and values.

use kernel::FieldError;
use kernel::rules::NUL_REFUSED;

/// Longest name, in characters (ASCII only).
pub const NAME_MAX: usize = 64;
/// Largest value, in bytes of UTF-8.
pub const VALUE_MAX_BYTES: usize = 8192;
/// The pattern of a name, as documented.
pub const NAME_PATTERN: &str = "^[A-Za-z0-9_]{1,64}$";

/// Whether `name` matches [`NAME_PATTERN`].
pub fn is_valid_name(name: &str) -> bool {
    (1..=NAME_MAX).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Every failing field of a write: `name` and `value`.
pub fn check_write(name: &str, value: &str) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if !is_valid_name(name) {
        errors.push(FieldError::new(
            "name",
            format!("must be 1 to {NAME_MAX} letters, digits or underscores ({NAME_PATTERN})"),
        ));
    }
    if value.is_empty() {
        errors.push(FieldError::new("value", "must not be empty"));
    } else if value.len() > VALUE_MAX_BYTES {
        errors.push(FieldError::new(
            "value",
            format!("must be at most {VALUE_MAX_BYTES} bytes (it is {})", value.len()),
        ));
    } else if value.contains('\0') {
        errors.push(FieldError::new("value", NUL_REFUSED));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(name: &str, value: &str) -> Vec<String> {
        check_write(name, value)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn names_follow_the_pattern() {
        for good in ["A", "github_token", "X_1", &"a".repeat(64)] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in ["", "with-dash", "with space", "é", "a\0", "a.b", &"a".repeat(65)] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn values_are_1_to_8192_bytes_without_nul() {
        assert!(fields("N", "x").is_empty());
        assert!(fields("N", &"x".repeat(8192)).is_empty());
        assert_eq!(fields("N", ""), ["value"]);
        assert_eq!(fields("N", &"x".repeat(8193)), ["value"]);
        assert_eq!(fields("N", &"é".repeat(4097)), ["value"], "bytes, not characters");
        assert_eq!(fields("N", "a\0b"), ["value"]);
        assert_eq!(fields("bad name", ""), ["name", "value"]);
    }

    #[test]
    fn no_message_repeats_the_value() {
        let value = "x".repeat(9000);
        let errors = check_write("N", &value).unwrap_err();
        assert!(errors.iter().all(|e| !e.message.contains("xxxx")));
    }
}
