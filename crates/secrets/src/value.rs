//! [`SecretValue`]: a decrypted secret that does not print itself.

/// A decrypted secret value. `Debug` and `Display` print `•••`, so a value that reaches a
/// log line, an error or a formatted event by mistake shows nothing; [`expose`](Self::expose)
/// is the one way to the text.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a decrypted value.
    pub(crate) fn new(value: String) -> Self {
        Self(value)
    }

    /// The value itself, for the one place that sends it (a header of an outbound call).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("•••")
    }
}

impl std::fmt::Display for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("•••")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_never_prints_itself() {
        let value = SecretValue::new("hunter2".into());
        assert_eq!(format!("{value}"), "•••");
        assert_eq!(format!("{value:?}"), "•••");
        assert_eq!(format!("{:?}", Some(&value)), "Some(•••)");
        assert_eq!(value.expose(), "hunter2");
    }
}
