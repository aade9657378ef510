//! The limits of conversations and messages, and the garde rules that need code.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Longest conversation title, in characters.
pub(crate) const TITLE_MAX: usize = 200;
/// Longest message, in characters.
pub(crate) const CONTENT_MAX: usize = 100_000;
/// Most keys in `metadata`.
pub(crate) const METADATA_KEYS_MAX: usize = 16;
/// Length of the title of a conversation that `/chat/messages` creates, in characters.
pub(crate) const DERIVED_TITLE_CHARS: usize = 50;

/// garde rule: at most [`METADATA_KEYS_MAX`] keys.
pub(crate) fn metadata_keys(value: &Map<String, Value>, _: &()) -> garde::Result {
    if value.len() > METADATA_KEYS_MAX {
        return Err(garde::Error::new(format!("must have at most {METADATA_KEYS_MAX} keys")));
    }
    Ok(())
}

/// Deserializer of a field whose `null` means its empty value (`{}`).
pub(crate) fn null_as_default<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: Deserialize<'de> + Default,
    D: Deserializer<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The title of a conversation started by its first message: the first 50 characters of
/// the message, without surrounding whitespace.
pub(crate) fn derived_title(content: &str) -> String {
    let head: String = content.trim().chars().take(DERIVED_TITLE_CHARS).collect();
    head.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_titles_are_the_first_50_characters() {
        assert_eq!(derived_title("  Hello there \n"), "Hello there");
        let long = "ä".repeat(80);
        assert_eq!(derived_title(&long).chars().count(), 50);
    }
}
