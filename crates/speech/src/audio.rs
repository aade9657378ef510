//! Audio as the service passes it around: an upload to transcribe (its type detected from
//! its bytes, never from the client's word) and spoken audio streaming out.

use bytes::Bytes;
use futures_util::stream::BoxStream;

use crate::{AudioFormat, SpeechError};

/// A container of audio a transcriber may be sent, recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioKind {
    /// RIFF/WAVE.
    Wav,
    /// MPEG audio (an ID3 tag or a frame sync).
    Mp3,
    /// Ogg (Opus, Vorbis).
    Ogg,
    /// WebM / Matroska.
    Webm,
    /// FLAC.
    Flac,
    /// MP4 / M4A (an `ftyp` box).
    Mp4,
}

impl AudioKind {
    /// What `bytes` hold, when they begin like audio.
    pub fn detect(bytes: &[u8]) -> Option<Self> {
        let starts = |magic: &[u8]| bytes.starts_with(magic);
        if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WAVE" {
            return Some(Self::Wav);
        }
        if starts(b"OggS") {
            return Some(Self::Ogg);
        }
        if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
            return Some(Self::Webm);
        }
        if starts(b"fLaC") {
            return Some(Self::Flac);
        }
        if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
            return Some(Self::Mp4);
        }
        // An ID3v2 tag, or an MPEG audio frame header: 11 sync bits, a layer that is not
        // "reserved", and a bitrate index that is neither "free" nor "bad".
        if starts(b"ID3") {
            return Some(Self::Mp3);
        }
        if let [0xFF, second, third, ..] = bytes
            && second & 0xE0 == 0xE0
            && second & 0x06 != 0
            && third & 0xF0 != 0xF0
        {
            return Some(Self::Mp3);
        }
        None
    }

    /// Its media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Wav => "audio/wav",
            Self::Mp3 => "audio/mpeg",
            Self::Ogg => "audio/ogg",
            Self::Webm => "audio/webm",
            Self::Flac => "audio/flac",
            Self::Mp4 => "audio/mp4",
        }
    }

    /// The file extension providers recognise it by.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Wav => "wav",
            Self::Mp3 => "mp3",
            Self::Ogg => "ogg",
            Self::Webm => "webm",
            Self::Flac => "flac",
            Self::Mp4 => "m4a",
        }
    }
}

/// The kinds of audio accepted, as said in errors.
pub const ACCEPTED_AUDIO: &str = "WAV, MP3, Ogg, WebM, FLAC or MP4/M4A";

/// Audio to transcribe: whole (bounded by `SPEECH_MAX_AUDIO_BYTES`), with its detected kind.
#[derive(Clone)]
pub struct AudioUpload {
    /// The bytes.
    pub bytes: Bytes,
    /// The container, detected from the bytes.
    pub kind: AudioKind,
    /// The file name sent upstream (the client's, when it gave a usable one).
    pub filename: String,
}

impl std::fmt::Debug for AudioUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioUpload")
            .field("bytes", &self.bytes.len())
            .field("kind", &self.kind)
            .field("filename", &self.filename)
            .finish()
    }
}

impl AudioUpload {
    /// Checks `bytes` under `field`: not empty, and audio by its magic bytes (`422` naming
    /// `field` otherwise). `filename` is the client's name, kept when it is plain.
    pub fn new(field: &str, bytes: Bytes, filename: Option<&str>) -> Result<Self, SpeechError> {
        if bytes.is_empty() {
            return Err(SpeechError::invalid(field, "is empty: send the audio"));
        }
        let kind = AudioKind::detect(&bytes)
            .ok_or_else(|| SpeechError::invalid(field, format!("is not audio: send {ACCEPTED_AUDIO}")))?;
        let filename = filename
            .map(str::trim)
            .filter(|name| plain_filename(name))
            .map_or_else(|| format!("audio.{}", kind.extension()), str::to_owned);
        Ok(Self { bytes, kind, filename })
    }

    /// The length in seconds, when the audio is a WAV whose header says it.
    pub fn wav_duration(&self) -> Option<f64> {
        if self.kind != AudioKind::Wav {
            return None;
        }
        let reader = hound::WavReader::new(std::io::Cursor::new(&self.bytes[..])).ok()?;
        let rate = reader.spec().sample_rate;
        (rate > 0).then(|| f64::from(reader.duration()) / f64::from(rate))
    }
}

/// A name of at most 255 bytes without path separators, quotes or control characters.
fn plain_filename(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && !name.chars().any(|c| c.is_control() || matches!(c, '/' | '\\' | '"'))
}

/// Spoken audio on its way out: the format, the exact length when known, and the bytes.
pub struct SpokenAudio {
    /// The format (and so the `Content-Type`).
    pub format: AudioFormat,
    /// The length in bytes, when known before the first byte.
    pub length: Option<u64>,
    /// The bytes, as they come; an error ends the stream.
    pub body: BoxStream<'static, Result<Bytes, SpeechError>>,
}

impl std::fmt::Debug for SpokenAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpokenAudio")
            .field("format", &self.format)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_is_recognised_by_its_bytes() {
        let cases: [(&[u8], Option<AudioKind>); 10] = [
            (b"RIFF\x24\0\0\0WAVEfmt ", Some(AudioKind::Wav)),
            (b"RIFF\x24\0\0\0AVI LIST", None),
            (b"ID3\x04\0\0\0\0\0\0", Some(AudioKind::Mp3)),
            (&[0xFF, 0xFB, 0x90, 0x64], Some(AudioKind::Mp3)),
            (&[0xFF, 0xFB, 0xF0, 0x64], None),
            (b"OggS\0\x02", Some(AudioKind::Ogg)),
            (&[0x1A, 0x45, 0xDF, 0xA3, 0x9F], Some(AudioKind::Webm)),
            (b"fLaC\0\0\0\x22", Some(AudioKind::Flac)),
            (b"\0\0\0\x20ftypM4A \0\0", Some(AudioKind::Mp4)),
            (b"#!/bin/sh\necho hi\n", None),
        ];
        for (bytes, kind) in cases {
            assert_eq!(AudioKind::detect(bytes), kind, "{bytes:?}");
        }
    }

    #[test]
    fn uploads_must_be_audio_and_not_empty() {
        let err = AudioUpload::new("file", Bytes::new(), None).unwrap_err();
        assert!(
            matches!(err, SpeechError::Invalid(ref e) if e[0].field == "file" && e[0].message == "is empty: send the audio"),
            "{err:?}"
        );
        let err = AudioUpload::new("file", Bytes::from_static(b"\x89PNG\r\n\x1a\n"), Some("a.wav")).unwrap_err();
        assert!(
            matches!(err, SpeechError::Invalid(ref e) if e[0].field == "file"),
            "{err:?}"
        );
        let ok = AudioUpload::new("file", Bytes::from_static(b"OggS\0\x02"), Some("../x\"y.ogg")).unwrap();
        assert_eq!(ok.filename, "audio.ogg", "an unsafe name is replaced");
        let ok = AudioUpload::new("file", Bytes::from_static(b"OggS\0\x02"), Some("voice note.ogg")).unwrap();
        assert_eq!(ok.filename, "voice note.ogg");
    }
}
