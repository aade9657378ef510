//! The one definition of a valid username: the rule garde checks, and the schema published
//! for it, come from the same pattern.

use std::sync::LazyLock;

use regex::Regex;
use utoipa::openapi::{ObjectBuilder, Type, schema::SchemaType};

/// Usernames are 3 to 50 ASCII letters, digits, `_` or `-`.
pub const PATTERN: &str = r"^[A-Za-z0-9_-]{3,50}$";

/// [`PATTERN`] compiled once, for `#[garde(pattern(users::username::RULE))]`.
pub static RULE: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used, reason = "PATTERN is a constant; a unit test compiles it")]
    Regex::new(PATTERN).expect("PATTERN is a valid regex")
});

/// The published schema of a username field, for `#[schema(schema_with = users::username::schema)]`.
pub fn schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some(
            "Username: 3 to 50 letters, digits, `_` or `-` (unique regardless of case).",
        ))
        .min_length(Some(3))
        .max_length(Some(50))
        .pattern(Some(PATTERN))
        .examples(["ada"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_and_the_schema_agree() {
        for ok in ["ada", "a_b-c", &"x".repeat(50)] {
            assert!(RULE.is_match(ok), "{ok}");
        }
        for bad in ["ab", "a b", "adé", &"x".repeat(51), "ada\n"] {
            assert!(!RULE.is_match(bad), "{bad}");
        }
        let published = serde_json::to_value(schema().build()).unwrap();
        assert_eq!(published["pattern"], PATTERN);
        assert_eq!(published["minLength"], 3);
        assert_eq!(published["maxLength"], 50);
    }
}
