//! The limits of conversations and messages, and the garde rules that need code.

pub(crate) use kernel::nullable::null_as_default;
pub(crate) use kernel::rules::metadata_keys;

/// Longest conversation title, in characters.
pub(crate) const TITLE_MAX: usize = 200;
/// Longest message, in characters.
pub const CONTENT_MAX: usize = 100_000;
/// Most files attached to one message.
pub const ATTACHMENTS_MAX: usize = 16;
/// Length of the title of a conversation that `/chat/messages` creates, in characters.
pub const DERIVED_TITLE_CHARS: usize = 50;

/// The title of a conversation started by its first message: the first 50 characters of
/// the message, without surrounding whitespace.
pub fn derived_title(content: &str) -> String {
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
