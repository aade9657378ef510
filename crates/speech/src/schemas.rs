//! Request and response bodies of the `/audio` routes.

use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest text one speech request may hold, in characters.
pub const TEXT_MAX_CHARS: usize = 4096;
/// Longest voice identifier, in bytes.
pub const VOICE_MAX_BYTES: usize = 128;
/// Longest language code, in bytes.
pub const LANGUAGE_MAX_BYTES: usize = 16;

/// An audio format speech can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AudioFormat {
    /// MPEG-1 Layer III (`audio/mpeg`).
    Mp3,
    /// RIFF/WAVE PCM (`audio/wav`).
    Wav,
    /// Opus in an Ogg container (`audio/ogg; codecs=opus`).
    Opus,
}

impl AudioFormat {
    /// The `Content-Type` of audio in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Mp3 => "audio/mpeg",
            Self::Wav => "audio/wav",
            Self::Opus => "audio/ogg; codecs=opus",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Mp3 => "mp3",
            Self::Wav => "wav",
            Self::Opus => "opus",
        }
    }

    /// Its name in requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mp3 => "mp3",
            Self::Wav => "wav",
            Self::Opus => "opus",
        }
    }
}

/// A speech provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    /// Offline and always available: tones that encode the text (a stand-in, see `docs/speech.md`).
    Echo,
    /// An OpenAI-compatible audio API under `OPENAI_BASE_URL`.
    Openai,
    /// ElevenLabs (`ELEVENLABS_API_KEY`).
    Elevenlabs,
}

impl ProviderName {
    /// Its name in requests and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Echo => "echo",
            Self::Openai => "openai",
            Self::Elevenlabs => "elevenlabs",
        }
    }

    /// The provider called `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "echo" => Some(Self::Echo),
            "openai" => Some(Self::Openai),
            "elevenlabs" => Some(Self::Elevenlabs),
            _ => None,
        }
    }
}

/// Text to turn into speech.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeechRequest {
    /// The text to speak: 1 to 4096 characters.
    #[garde(length(chars, min = 1, max = TEXT_MAX_CHARS))]
    #[schema(min_length = 1, max_length = 4096, example = "Hello from Agentry!")]
    pub text: String,
    /// The provider's own voice identifier: an OpenAI voice name (`alloy`, …), an ElevenLabs
    /// voice id, or `tone` / `soft` for `echo`. Default: the provider's configured voice
    /// (`tone` for `echo`).
    #[garde(inner(length(bytes, min = 1, max = VOICE_MAX_BYTES)))]
    #[schema(min_length = 1, max_length = 128, example = "alloy")]
    pub voice: Option<String>,
    /// The audio format; default `mp3`, and `wav` with `echo` (which writes only `wav`).
    #[garde(skip)]
    pub format: Option<AudioFormat>,
    /// The provider; default `SPEECH_DEFAULT_PROVIDER`, else the first configured of
    /// `openai`, `elevenlabs`, else `echo`. Naming one that is not configured is a `422`.
    #[garde(skip)]
    pub provider: Option<ProviderName>,
}

/// The multipart form of a transcription (documentation of `multipart/form-data`).
#[derive(Debug, ToSchema)]
pub struct TranscriptionForm {
    /// The audio (required, not empty): WAV, MP3, Ogg (Opus/Vorbis), WebM, FLAC or MP4/M4A,
    /// at most `SPEECH_MAX_AUDIO_BYTES` (25 MiB by default). `echo` reads only the WAV
    /// its own speech wrote.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// The spoken language as an ISO-639-1 code (`en`, `de`, …); helps the provider.
    #[schema(min_length = 1, max_length = 16, example = "en")]
    pub language: Option<String>,
    /// The provider, as for speech.
    pub provider: Option<ProviderName>,
}

/// A transcription of a file uploaded before (`POST /api/v1/files`).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranscriptionOfFile {
    /// One of the caller's files holding audio (another id is a `422` naming `file_id`).
    #[garde(skip)]
    pub file_id: Uuid,
    /// The spoken language as an ISO-639-1 code (`en`, `de`, …); helps the provider.
    #[garde(skip)]
    #[schema(min_length = 1, max_length = 16, example = "en")]
    pub language: Option<String>,
    /// The provider, as for speech.
    #[garde(skip)]
    pub provider: Option<ProviderName>,
}

/// What was said in the audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Transcription {
    /// The transcript.
    #[schema(example = "Hello from Agentry!")]
    pub text: String,
    /// The language: the one the request gave, else the one the provider detected, else `null`.
    #[schema(example = "en")]
    pub language: Option<String>,
    /// The audio's length in seconds: the provider's figure, else measured from a WAV, else `null`.
    #[schema(example = 1.25)]
    pub duration_s: Option<f64>,
}
