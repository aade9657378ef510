//! `elevenlabs`: ElevenLabs' `POST /v1/text-to-speech/{voice_id}?output_format=…` (JSON →
//! audio bytes) and `POST /v1/speech-to-text` (multipart with `model_id` → transcript with
//! `language_code` and timed words), authenticated with `xi-api-key`.

use reqwest::header::{HeaderMap, HeaderName};
use serde::Deserialize;
use serde_json::json;

use super::upstream::{Upstream, file_part, join, secret_header};
use crate::audio::{AudioUpload, SpokenAudio};
use crate::config::{DEFAULT_ELEVENLABS_BASE_URL, non_empty};
use crate::{AudioFormat, SpeechConfig, SpeechError, Transcription};

/// The ElevenLabs speech provider.
#[derive(Clone)]
pub(crate) struct ElevenLabsSpeech {
    upstream: Upstream,
    base: url::Url,
    headers: HeaderMap,
    voice_id: String,
    tts_model: String,
    stt_model: String,
}

/// The part of a speech-to-text answer read here.
#[derive(Deserialize)]
struct Transcript {
    text: String,
    #[serde(default)]
    language_code: Option<String>,
    #[serde(default)]
    words: Vec<Word>,
}

#[derive(Deserialize)]
struct Word {
    #[serde(default)]
    end: Option<f64>,
}

/// ElevenLabs' `output_format` for one of ours.
fn output_format(format: AudioFormat) -> &'static str {
    match format {
        AudioFormat::Mp3 => "mp3_44100_128",
        AudioFormat::Wav => "wav_24000",
        AudioFormat::Opus => "opus_48000_64",
    }
}

impl ElevenLabsSpeech {
    /// The provider of `config`'s ElevenLabs settings, when a key is set.
    pub(crate) fn from_config(client: reqwest::Client, config: &SpeechConfig) -> Result<Option<Self>, SpeechError> {
        let Some(key) = non_empty(&config.elevenlabs_api_key) else {
            return Ok(None);
        };
        let base = non_empty(&config.elevenlabs_base_url).unwrap_or(DEFAULT_ELEVENLABS_BASE_URL);
        let base = super::check_base_url("ELEVENLABS_BASE_URL", base)?;
        let mut headers = HeaderMap::new();
        headers.insert(HeaderName::from_static("xi-api-key"), secret_header("ElevenLabs", key)?);
        Ok(Some(Self {
            upstream: Upstream::new(client, "elevenlabs", Some(key.to_owned()), config),
            base,
            headers,
            voice_id: config.elevenlabs_voice_id.clone(),
            tts_model: config.elevenlabs_tts_model.clone(),
            stt_model: config.elevenlabs_stt_model.clone(),
        }))
    }

    /// `text` spoken by `voice` (a voice id; the configured one when `None`), as `format`.
    pub(crate) async fn speak(
        &self,
        text: &str,
        voice: Option<&str>,
        format: AudioFormat,
    ) -> Result<SpokenAudio, SpeechError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| SpeechError::Config("ELEVENLABS_BASE_URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(["v1", "text-to-speech", voice.unwrap_or(&self.voice_id)]);
        url.query_pairs_mut()
            .append_pair("output_format", output_format(format));
        let body = json!({"text": text, "model_id": self.tts_model});
        let request = self
            .upstream
            .post(url.as_str())
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
        let mut form = reqwest::multipart::Form::new().text("model_id", self.stt_model.clone());
        if let Some(language) = language {
            form = form.text("language_code", language.to_owned());
        }
        let form = form.part(
            "file",
            file_part(audio.bytes.clone(), &audio.filename, audio.kind.content_type())?,
        );
        let request = self
            .upstream
            .post(&join(self.base.as_str(), "v1/speech-to-text"))
            .headers(self.headers.clone())
            .multipart(form);
        let response = self.upstream.send(request).await?;
        let transcript: Transcript = self.upstream.json(response).await?;
        let duration = transcript.words.iter().filter_map(|w| w.end).reduce(f64::max);
        Ok(Transcription {
            text: transcript.text,
            language: transcript.language_code,
            duration_s: duration,
        })
    }
}
