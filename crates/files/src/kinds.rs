//! Which kinds of file are accepted, told from their content (magic bytes), never from the
//! name or the client's `Content-Type`.

use crate::schemas::Purpose;

/// How many leading bytes the magic-byte detection looks at.
pub const SNIFF_LEN: usize = 8192;

/// Image types: avatars accept exactly these.
const IMAGES: &[&str] = &["image/png", "image/jpeg", "image/webp"];
/// Plain text: UTF-8 without NUL, and no binary signature.
pub const TEXT_PLAIN: &str = "text/plain";
/// PDF documents.
pub const PDF: &str = "application/pdf";
/// The audio containers attachments accept (speech input).
const AUDIO: &[&str] = &["audio/wav", "audio/mpeg", "audio/ogg", "audio/webm"];

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// A binary type with this (normalized) media type.
    Binary(&'static str),
    /// No binary signature: text if the whole content is UTF-8 without NUL.
    MaybeText,
    /// A recognised type no purpose accepts (its media type, for the problem detail).
    Other(String),
}

/// Tells the type of a file from its first bytes (up to [`SNIFF_LEN`]).
pub fn sniff(head: &[u8]) -> Sniffed {
    let Some(kind) = infer::get(head) else {
        return Sniffed::MaybeText;
    };
    // Scripts, HTML and XML are text to an attachment: their bytes decide.
    if kind.matcher_type() == infer::MatcherType::Text {
        return Sniffed::MaybeText;
    }
    match kind.mime_type() {
        "image/png" => Sniffed::Binary("image/png"),
        "image/jpeg" => Sniffed::Binary("image/jpeg"),
        "image/webp" => Sniffed::Binary("image/webp"),
        "application/pdf" => Sniffed::Binary(PDF),
        "audio/x-wav" => Sniffed::Binary("audio/wav"),
        "audio/mpeg" => Sniffed::Binary("audio/mpeg"),
        // An Ogg stream, whatever its codec (Vorbis, Opus).
        "audio/ogg" | "audio/opus" => Sniffed::Binary("audio/ogg"),
        // WebM as recorded by browsers' MediaRecorder; accepted as audio input.
        "video/webm" => Sniffed::Binary("audio/webm"),
        other => Sniffed::Other(other.to_owned()),
    }
}

/// Whether `purpose` accepts files of `content_type`.
pub fn accepts(purpose: Purpose, content_type: &str) -> bool {
    match purpose {
        Purpose::Avatar => IMAGES.contains(&content_type),
        Purpose::Attachment => {
            IMAGES.contains(&content_type)
                || AUDIO.contains(&content_type)
                || content_type == PDF
                || content_type == TEXT_PLAIN
        }
    }
}

/// The media types `purpose` accepts, for problem details and the docs.
pub fn accepted(purpose: Purpose) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = IMAGES.to_vec();
    if purpose == Purpose::Attachment {
        all.extend([PDF, TEXT_PLAIN]);
        all.extend(AUDIO);
    }
    all
}

/// Whether `content_type` is an image a model can be shown.
pub fn is_image(content_type: &str) -> bool {
    IMAGES.contains(&content_type)
}

/// Whether `content_type` is one of the accepted audio containers.
pub fn is_audio(content_type: &str) -> bool {
    AUDIO.contains(&content_type)
}

/// Checks a stream of bytes for UTF-8 (and no NUL) chunk by chunk, carrying a sequence
/// split between chunks.
#[derive(Debug, Default)]
pub struct TextCheck {
    carry: Vec<u8>,
    failed: bool,
}

impl TextCheck {
    /// Feeds the next chunk.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.failed {
            return;
        }
        if chunk.contains(&0) {
            self.failed = true;
            return;
        }
        let mut joined;
        let bytes = if self.carry.is_empty() {
            chunk
        } else {
            joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(chunk);
            &joined[..]
        };
        match std::str::from_utf8(bytes) {
            Ok(_) => {}
            // An incomplete sequence at the end: the next chunk may finish it.
            Err(err) if err.error_len().is_none() => self.carry = bytes[err.valid_up_to()..].to_vec(),
            Err(_) => self.failed = true,
        }
    }

    /// Whether everything fed was UTF-8 without NUL, ending on a whole character.
    pub fn is_text(&self) -> bool {
        !self.failed && self.carry.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_split_inside_a_character_is_still_text() {
        let text = "héllo wörld €".as_bytes();
        for cut in 0..text.len() {
            let mut check = TextCheck::default();
            check.feed(&text[..cut]);
            check.feed(&text[cut..]);
            assert!(check.is_text(), "cut at {cut}");
        }
    }

    #[test]
    fn invalid_utf8_nul_and_a_truncated_character_are_not_text() {
        for bad in [&b"ab\xffcd"[..], b"a\0b", "é".as_bytes().split_at(1).0] {
            let mut check = TextCheck::default();
            check.feed(bad);
            assert!(!check.is_text(), "{bad:?}");
        }
    }

    #[test]
    fn a_script_is_text_and_a_png_is_a_png() {
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /\n"), Sniffed::MaybeText);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Sniffed::Binary("image/png"));
        assert!(matches!(sniff(b"PK\x03\x04\x14\0\0\0"), Sniffed::Other(_)));
    }
}
