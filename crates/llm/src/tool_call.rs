//! Tool calls assembled from the pieces a provider streams.

use serde_json::Value;

use crate::ToolCall;

/// A tool call whose arguments are still arriving as JSON text fragments.
#[derive(Debug, Default)]
pub(crate) struct PartialToolCall {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) arguments: String,
}

impl PartialToolCall {
    /// The finished call, its argument text parsed.
    pub(crate) fn finish(self) -> ToolCall {
        ToolCall {
            id: self.id,
            name: self.name,
            arguments: parse_arguments(&self.arguments),
        }
    }
}

/// Arguments as JSON: `{}` for no text, the raw text as a JSON string when it is not valid JSON
/// (models do emit broken JSON; the tool runner reports that back instead of the call failing).
pub(crate) fn parse_arguments(raw: &str) -> Value {
    if raw.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fragments_become_json_and_broken_text_is_kept() {
        let call = PartialToolCall {
            id: "c1".into(),
            name: "f".into(),
            arguments: ["{\"ci", "ty\": \"Paris\"}"].concat(),
        };
        assert_eq!(call.finish().arguments, json!({"city": "Paris"}));
        assert_eq!(parse_arguments(""), json!({}));
        assert_eq!(parse_arguments("{oops"), json!("{oops"));
    }
}
