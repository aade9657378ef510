//! The settings the speech providers are built from (the api-server fills them from the
//! environment; `docs/speech.md` lists the variables).

use std::fmt;
use std::time::Duration;

/// ElevenLabs' public API, without `/v1`.
pub const DEFAULT_ELEVENLABS_BASE_URL: &str = "https://api.elevenlabs.io";
/// OpenAI's public API, used when only `OPENAI_API_KEY` is set.
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// Provider endpoints, keys, models, voices and limits.
#[derive(Clone)]
pub struct SpeechConfig {
    /// Base URL of an OpenAI-compatible API (`OPENAI_BASE_URL`); setting it (or the key) enables `openai`.
    pub openai_base_url: Option<String>,
    /// Bearer key of the OpenAI-compatible API (`OPENAI_API_KEY`).
    pub openai_api_key: Option<String>,
    /// The text-to-speech model of `openai` (`SPEECH_OPENAI_TTS_MODEL`).
    pub openai_tts_model: String,
    /// The transcription model of `openai` (`SPEECH_OPENAI_STT_MODEL`).
    pub openai_stt_model: String,
    /// The voice of `openai` when a request names none (`SPEECH_OPENAI_VOICE`).
    pub openai_voice: String,
    /// ElevenLabs key (`ELEVENLABS_API_KEY`); enables `elevenlabs`.
    pub elevenlabs_api_key: Option<String>,
    /// ElevenLabs base URL without `/v1` (`ELEVENLABS_BASE_URL`).
    pub elevenlabs_base_url: Option<String>,
    /// The voice id of `elevenlabs` when a request names none (`ELEVENLABS_VOICE_ID`).
    pub elevenlabs_voice_id: String,
    /// The text-to-speech model of `elevenlabs` (`ELEVENLABS_TTS_MODEL`).
    pub elevenlabs_tts_model: String,
    /// The speech-to-text model of `elevenlabs` (`ELEVENLABS_STT_MODEL`).
    pub elevenlabs_stt_model: String,
    /// The provider used when a request names none (`SPEECH_DEFAULT_PROVIDER`).
    pub default_provider: Option<String>,
    /// Limit of the wait for an upstream answer, and of each gap while its audio streams
    /// (`SPEECH_TIMEOUT_SECS`).
    pub timeout: Duration,
    /// Limit of establishing a connection.
    pub connect_timeout: Duration,
    /// Largest audio accepted for transcription and largest audio taken from a provider
    /// (`SPEECH_MAX_AUDIO_BYTES`).
    pub max_audio_bytes: usize,
}

impl Default for SpeechConfig {
    fn default() -> Self {
        Self {
            openai_base_url: None,
            openai_api_key: None,
            openai_tts_model: "gpt-4o-mini-tts".into(),
            openai_stt_model: "whisper-1".into(),
            openai_voice: "alloy".into(),
            elevenlabs_api_key: None,
            elevenlabs_base_url: None,
            // "George", one of ElevenLabs' premade voices every account has.
            elevenlabs_voice_id: "JBFqnCBsd6RMkjVDRZzb".into(),
            elevenlabs_tts_model: "eleven_multilingual_v2".into(),
            elevenlabs_stt_model: "scribe_v2".into(),
            default_provider: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_audio_bytes: 25 * 1024 * 1024,
        }
    }
}

impl fmt::Debug for SpeechConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |key: &Option<String>| key.as_ref().map(|_| "[redacted]");
        f.debug_struct("SpeechConfig")
            .field("openai_base_url", &self.openai_base_url)
            .field("openai_api_key", &redacted(&self.openai_api_key))
            .field("elevenlabs_base_url", &self.elevenlabs_base_url)
            .field("elevenlabs_api_key", &redacted(&self.elevenlabs_api_key))
            .field("default_provider", &self.default_provider)
            .field("timeout", &self.timeout)
            .field("max_audio_bytes", &self.max_audio_bytes)
            .finish_non_exhaustive()
    }
}

/// The value if it holds more than whitespace: an empty variable counts as unset.
pub(crate) fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_keys() {
        let config = SpeechConfig {
            openai_api_key: Some("sk-openai-secret".into()),
            elevenlabs_api_key: Some("el-secret".into()),
            ..SpeechConfig::default()
        };
        let text = format!("{config:?}");
        assert!(!text.contains("secret"), "{text}");
    }
}
