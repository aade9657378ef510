//! The text of a document file, for a model to read: plain text as stored, a PDF's text
//! extracted with `pdf-extract`. Extraction runs on a blocking thread under a time limit; a
//! PDF it cannot read (damaged, encrypted, scanned images only) has no text, never an error
//! of the caller's request.

use std::time::Duration;

use bytes::Bytes;

/// How long one PDF's extraction may take.
pub const EXTRACT_TIMEOUT: Duration = Duration::from_secs(20);

/// The media type of PDF files.
pub const PDF: &str = "application/pdf";

/// Whether files of `content_type` have text a model can read.
pub fn is_document(content_type: &str) -> bool {
    content_type == PDF || content_type.starts_with("text/")
}

/// The text of a file of `content_type` holding `bytes`, at most `max_chars` characters
/// (cut with a note saying how much was left out); `None` when it has none to read.
pub async fn extract(content_type: &str, bytes: Bytes, max_chars: usize) -> Option<String> {
    let text = if content_type == PDF {
        let extraction = tokio::task::spawn_blocking(move || pdf_extract::extract_text_from_mem(&bytes));
        match tokio::time::timeout(EXTRACT_TIMEOUT, extraction).await {
            Ok(Ok(Ok(text))) => text,
            Ok(Ok(Err(err))) => {
                tracing::info!(error = %err, "a PDF's text could not be extracted");
                return None;
            }
            // A panic inside the extractor (malformed input) is caught by the blocking task.
            Ok(Err(_)) => {
                tracing::info!("the PDF text extractor failed on a file");
                return None;
            }
            Err(_) => {
                tracing::info!("a PDF's text extraction timed out");
                return None;
            }
        }
    } else if content_type.starts_with("text/") {
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        return None;
    };
    let text = text.trim();
    (!text.is_empty()).then(|| bounded(text, max_chars))
}

/// `text`, or its first `max_chars` characters and a note of how many were left out.
fn bounded(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let left = text[cut..].chars().count();
            format!("{}\n[… {left} more characters not included]", &text[..cut])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn plain_text_is_kept_and_bounded() {
        let text = extract("text/plain", Bytes::from_static(b"  hello world \n"), 100).await;
        assert_eq!(text.as_deref(), Some("hello world"));
        let cut = extract("text/plain", Bytes::from_static("héllo wörld".as_bytes()), 5).await;
        assert_eq!(cut.as_deref(), Some("héllo\n[… 6 more characters not included]"));
        assert_eq!(extract("text/plain", Bytes::from_static(b"  \n"), 10).await, None);
        assert_eq!(extract("image/png", Bytes::from_static(b"\x89PNG"), 10).await, None);
    }

    #[tokio::test]
    async fn a_damaged_pdf_has_no_text() {
        let text = extract(PDF, Bytes::from_static(b"%PDF-1.4\nnot really a pdf"), 100).await;
        assert_eq!(text, None);
    }
}
