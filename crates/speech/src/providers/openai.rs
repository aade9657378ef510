//! `openai`: any OpenAI-compatible audio API (OpenAI, LocalAI, speaches, …) under
//! `OPENAI_BASE_URL`: `POST /audio/speech` (JSON → audio bytes) and
//! `POST /audio/transcriptions` (multipart → `verbose_json` with language and duration).

use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde::Deserialize;
use serde_json::json;

use super::upstream::{Upstream, file_part, join, secret_header};
use crate::audio::{AudioUpload, SpokenAudio};
use crate::config::{DEFAULT_OPENAI_BASE_URL, non_empty};
use crate::{AudioFormat, SpeechConfig, SpeechError, Transcription};

/// The OpenAI-compatible speech provider.
#[derive(Clone)]
pub(crate) struct OpenAiSpeech {
    upstream: Upstream,
    base: String,
    headers: HeaderMap,
    tts_model: String,
    stt_model: String,
    voice: String,
}

/// The part of a `verbose_json` transcription read here (plain `json` has only `text`).
#[derive(Deserialize)]
struct Transcript {
    text: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    duration: Option<f64>,
}

impl OpenAiSpeech {
    /// The provider of `config`'s OpenAI settings, when a key or a base URL is set.
    pub(crate) fn from_config(client: reqwest::Client, config: &SpeechConfig) -> Result<Option<Self>, SpeechError> {
        let key = non_empty(&config.openai_api_key);
        let base = non_empty(&config.openai_base_url);
        if key.is_none() && base.is_none() {
            return Ok(None);
        }
        let base = base.unwrap_or(DEFAULT_OPENAI_BASE_URL);
        super::check_base_url("OPENAI_BASE_URL", base)?;
        let mut headers = HeaderMap::new();
        if let Some(key) = key {
            headers.insert(AUTHORIZATION, secret_header("OpenAI", &format!("Bearer {key}"))?);
        }
        Ok(Some(Self {
            upstream: Upstream::new(client, "openai", key.map(str::to_owned), config),
            base: base.to_owned(),
            headers,
            tts_model: config.openai_tts_model.clone(),
            stt_model: config.openai_stt_model.clone(),
            voice: config.openai_voice.clone(),
        }))
    }

    /// `text` spoken in `voice` (the configured one when `None`), as `format`.
    pub(crate) async fn speak(
        &self,
        text: &str,
        voice: Option<&str>,
        format: AudioFormat,
    ) -> Result<SpokenAudio, SpeechError> {
        let body = json!({
            "model": self.tts_model,
            "input": text,
            "voice": voice.unwrap_or(&self.voice),
            "response_format": format.as_str(),
        });
        let request = self
            .upstream
            .post(&join(&self.base, "audio/speech"))
            .headers(self.headers.clone())
            .json(&body);
        let response = self.upstream.send(request).await?;
        self.upstream.audio(response, format)
    }

    /// The transcript of `audio`, in `language` when given.
    pub(crate) async fn transcribe(
        &self,
        audio: &AudioUpload,
        language: Option<&str>,
    ) -> Result<Transcription, SpeechError> {
        let mut form = reqwest::multipart::Form::new()
            .text("model", self.stt_model.clone())
            .text("response_format", "verbose_json");
        if let Some(language) = language {
            form = form.text("language", language.to_owned());
        }
        let form = form.part(
            "file",
            file_part(audio.bytes.clone(), &audio.filename, audio.kind.content_type())?,
        );
        let request = self
            .upstream
            .post(&join(&self.base, "audio/transcriptions"))
            .headers(self.headers.clone())
            .multipart(form);
        let response = self.upstream.send(request).await?;
        let transcript: Transcript = self.upstream.json(response).await?;
        Ok(Transcription {
            text: transcript.text,
            language: transcript.language,
            duration_s: transcript.duration,
        })
    }
}
