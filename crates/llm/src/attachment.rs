//! Files given to the model with a user message: images it sees, documents it reads.

use serde::{Deserialize, Serialize};

/// A file attached to a message, ready for the model: an image's bytes (base64) or a
/// document's text (already extracted and bounded by the caller).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Attachment {
    /// An image the model sees.
    Image {
        /// The file's name, for the echo stand-in and logs; never sent to a provider.
        filename: String,
        /// Its media type (`image/png`, `image/jpeg`, `image/webp`).
        media_type: String,
        /// Its bytes, standard base64 with padding.
        data: String,
    },
    /// A document the model reads as text.
    Document {
        /// The file's name, shown to the model.
        filename: String,
        /// The text.
        text: String,
    },
}

impl Attachment {
    /// An image of `media_type` holding `bytes`.
    pub fn image(filename: impl Into<String>, media_type: impl Into<String>, bytes: &[u8]) -> Self {
        use base64::Engine as _;
        Self::Image {
            filename: filename.into(),
            media_type: media_type.into(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// A document's text as the model reads it: wrapped in a `<file name="…">` element, so
    /// it stays apart from the user's own words.
    pub(crate) fn document_text(filename: &str, text: &str) -> String {
        let name = filename.replace(['"', '<', '>'], "_");
        format!("<file name=\"{name}\">\n{text}\n</file>")
    }

    /// An image as a `data:` URL (the OpenAI `image_url` form).
    pub(crate) fn data_url(media_type: &str, data: &str) -> String {
        format!("data:{media_type};base64,{data}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_base64_and_documents_are_fenced_by_name() {
        let Attachment::Image { data, .. } = Attachment::image("a.png", "image/png", b"\x89PNG") else {
            panic!("an image")
        };
        assert_eq!(data, "iVBORw==");
        assert_eq!(
            Attachment::data_url("image/png", &data),
            "data:image/png;base64,iVBORw=="
        );
        assert_eq!(
            Attachment::document_text("a\"<b>.txt", "hello"),
            "<file name=\"a__b_.txt\">\nhello\n</file>"
        );
    }
}
