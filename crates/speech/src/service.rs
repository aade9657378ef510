//! [`SpeechService`]: picks the provider, checks what the providers cannot, and delegates.

use std::sync::Arc;

use crate::audio::{AudioUpload, SpokenAudio};
use crate::config::non_empty;
use crate::echo::EchoSpeech;
use crate::providers::{ElevenLabsSpeech, OpenAiSpeech, build_client};
use crate::schemas::LANGUAGE_MAX_BYTES;
use crate::{AudioFormat, ProviderName, SpeechConfig, SpeechError, SpeechRequest, Transcription};

/// Text-to-speech and speech-to-text over the configured providers; cheap to clone.
#[derive(Clone)]
pub struct SpeechService {
    inner: Arc<Inner>,
}

struct Inner {
    echo: EchoSpeech,
    openai: Option<OpenAiSpeech>,
    elevenlabs: Option<ElevenLabsSpeech>,
    default: ProviderName,
    max_audio_bytes: usize,
    files: Option<files::FilesService>,
}

impl std::fmt::Debug for SpeechService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeechService")
            .field("providers", &self.providers())
            .field("default", &self.inner.default)
            .finish()
    }
}

impl SpeechService {
    /// `echo` always; `openai` when `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set;
    /// `elevenlabs` when `ELEVENLABS_API_KEY` is. Fails (naming the variable) on a default
    /// provider that is not among them, or a base URL that is not one.
    pub fn from_config(config: &SpeechConfig) -> Result<Self, SpeechError> {
        let remote = non_empty(&config.openai_api_key).is_some()
            || non_empty(&config.openai_base_url).is_some()
            || non_empty(&config.elevenlabs_api_key).is_some();
        let (openai, elevenlabs) = if remote {
            let client = build_client(config)?;
            (
                OpenAiSpeech::from_config(client.clone(), config)?,
                ElevenLabsSpeech::from_config(client, config)?,
            )
        } else {
            (None, None)
        };
        let mut inner = Inner {
            echo: EchoSpeech,
            openai,
            elevenlabs,
            default: ProviderName::Echo,
            max_audio_bytes: config.max_audio_bytes,
            files: None,
        };
        inner.default = match non_empty(&config.default_provider) {
            Some(name) => ProviderName::parse(name).filter(|p| inner.has(*p)).ok_or_else(|| {
                SpeechError::Config(format!(
                    "SPEECH_DEFAULT_PROVIDER: `{name}` is not a configured speech provider (configured: {})",
                    inner.names()
                ))
            })?,
            None if inner.openai.is_some() => ProviderName::Openai,
            None if inner.elevenlabs.is_some() => ProviderName::Elevenlabs,
            None => ProviderName::Echo,
        };
        tracing::info!(providers = %inner.names(), default = inner.default.as_str(), "speech providers configured");
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The same service reading (and, for spoken replies, writing) users' files through `files`.
    pub fn with_files(mut self, files: files::FilesService) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.files = Some(files);
            return self;
        }
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                echo: inner.echo,
                openai: inner.openai.clone(),
                elevenlabs: inner.elevenlabs.clone(),
                default: inner.default,
                max_audio_bytes: inner.max_audio_bytes,
                files: Some(files),
            }),
        }
    }

    /// The configured providers, `echo` first.
    pub fn providers(&self) -> Vec<ProviderName> {
        self.inner.configured()
    }

    /// The provider used when a request names none.
    pub fn default_provider(&self) -> ProviderName {
        self.inner.default
    }

    /// The largest audio accepted for transcription, in bytes (`SPEECH_MAX_AUDIO_BYTES`).
    pub fn max_audio_bytes(&self) -> usize {
        self.inner.max_audio_bytes
    }

    /// The provider a request asked for (it must be configured: `422` naming `provider`), or the default.
    pub fn provider(&self, requested: Option<ProviderName>) -> Result<ProviderName, SpeechError> {
        match requested {
            None => Ok(self.inner.default),
            Some(provider) if self.inner.has(provider) => Ok(provider),
            Some(provider) => Err(SpeechError::invalid(
                "provider",
                format!(
                    "`{}` is not configured on this server (configured: {})",
                    provider.as_str(),
                    self.inner.names()
                ),
            )),
        }
    }

    /// The speech of `request`, streaming from the provider.
    pub async fn speak(&self, request: &SpeechRequest) -> Result<SpokenAudio, SpeechError> {
        kernel::rules::check(request).map_err(SpeechError::Invalid)?;
        let provider = self.provider(request.provider)?;
        let voice = request.voice.as_deref();
        let text = request.text.as_str();
        match provider {
            ProviderName::Echo => self
                .inner
                .echo
                .speak(text, voice, request.format.unwrap_or(AudioFormat::Wav)),
            ProviderName::Openai => {
                let format = request.format.unwrap_or(AudioFormat::Mp3);
                self.inner.openai()?.speak(text, voice, format).await
            }
            ProviderName::Elevenlabs => {
                let format = request.format.unwrap_or(AudioFormat::Mp3);
                self.inner.elevenlabs()?.speak(text, voice, format).await
            }
        }
    }

    /// The transcript of `audio`. `language` (an ISO-639-1 code) helps the provider and is
    /// the answer's `language` when given; `duration_s` is the provider's, else the WAV's.
    pub async fn transcribe(
        &self,
        audio: &AudioUpload,
        language: Option<&str>,
        provider: Option<ProviderName>,
    ) -> Result<Transcription, SpeechError> {
        if let Some(language) = language {
            check_language(language)?;
        }
        let provider = self.provider(provider)?;
        if audio.bytes.len() > self.inner.max_audio_bytes {
            return Err(SpeechError::TooLarge {
                limit: self.inner.max_audio_bytes,
            });
        }
        let mut transcription = match provider {
            ProviderName::Echo => self.inner.echo.transcribe(audio, language.map(str::to_owned)).await?,
            ProviderName::Openai => self.inner.openai()?.transcribe(audio, language).await?,
            ProviderName::Elevenlabs => self.inner.elevenlabs()?.transcribe(audio, language).await?,
        };
        if let Some(language) = language {
            transcription.language = Some(language.to_owned());
        }
        if transcription.duration_s.is_none() {
            transcription.duration_s = audio.wav_duration();
        }
        Ok(transcription)
    }
}

impl SpeechService {
    /// The transcript of the caller's stored file `file_id`: another user's or an unknown
    /// id, a file over `SPEECH_MAX_AUDIO_BYTES` or one that is not audio is a `422` naming
    /// `file_id`.
    pub async fn transcribe_file(
        &self,
        owner_id: uuid::Uuid,
        file_id: uuid::Uuid,
        language: Option<&str>,
        provider: Option<ProviderName>,
    ) -> Result<Transcription, SpeechError> {
        let audio = self.stored_audio(owner_id, file_id, "file_id").await?;
        self.transcribe(&audio, language, provider).await
    }

    /// The caller's stored file `file_id` as audio to transcribe; refusals name `field`.
    pub async fn stored_audio(
        &self,
        owner_id: uuid::Uuid,
        file_id: uuid::Uuid,
        field: &str,
    ) -> Result<AudioUpload, SpeechError> {
        let files = self.files()?;
        let limit = self.inner.max_audio_bytes;
        let read = files
            .read_bytes(owner_id, file_id, u64::try_from(limit).unwrap_or(u64::MAX))
            .await;
        let (file, bytes) = match read {
            Ok(Some(found)) => found,
            Ok(None) => {
                return Err(SpeechError::invalid(
                    field,
                    format!("`{file_id}` is not one of your files"),
                ));
            }
            Err(files::FileError::TooLarge { .. }) => {
                return Err(SpeechError::invalid(
                    field,
                    format!("`{file_id}` is larger than {limit} bytes, the most that can be transcribed"),
                ));
            }
            Err(err) => return Err(SpeechError::Store(err.into())),
        };
        AudioUpload::new(field, bytes, Some(&file.filename)).map_err(|err| match err {
            SpeechError::Invalid(mut errors) => {
                for error in &mut errors {
                    error.message = format!("`{file_id}` {}", error.message);
                }
                SpeechError::Invalid(errors)
            }
            other => other,
        })
    }

    fn files(&self) -> Result<&files::FilesService, SpeechError> {
        self.inner
            .files
            .as_ref()
            .ok_or_else(|| SpeechError::Config("the speech service was built without the files service".into()))
    }
}

impl Inner {
    fn has(&self, provider: ProviderName) -> bool {
        match provider {
            ProviderName::Echo => true,
            ProviderName::Openai => self.openai.is_some(),
            ProviderName::Elevenlabs => self.elevenlabs.is_some(),
        }
    }

    fn configured(&self) -> Vec<ProviderName> {
        [ProviderName::Echo, ProviderName::Openai, ProviderName::Elevenlabs]
            .into_iter()
            .filter(|p| self.has(*p))
            .collect()
    }

    fn names(&self) -> String {
        self.configured()
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn openai(&self) -> Result<&OpenAiSpeech, SpeechError> {
        self.openai
            .as_ref()
            .ok_or_else(|| SpeechError::invalid("provider", "`openai` is not configured on this server"))
    }

    fn elevenlabs(&self) -> Result<&ElevenLabsSpeech, SpeechError> {
        self.elevenlabs
            .as_ref()
            .ok_or_else(|| SpeechError::invalid("provider", "`elevenlabs` is not configured on this server"))
    }
}

/// A language code: 1 to 16 ASCII letters and hyphens (`en`, `pt-BR`).
pub fn check_language(language: &str) -> Result<(), SpeechError> {
    let plain = !language.is_empty()
        && language.len() <= LANGUAGE_MAX_BYTES
        && language.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-');
    if plain {
        Ok(())
    } else {
        Err(SpeechError::invalid(
            "language",
            "must be a language code such as `en` or `pt-BR` (1 to 16 letters and hyphens)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_first_configured_remote_provider_else_echo() {
        let service = SpeechService::from_config(&SpeechConfig::default()).unwrap();
        assert_eq!(service.default_provider(), ProviderName::Echo);
        assert_eq!(service.providers(), [ProviderName::Echo]);
        let both = SpeechConfig {
            openai_base_url: Some("http://127.0.0.1:9/v1".into()),
            elevenlabs_api_key: Some("el-key".into()),
            ..SpeechConfig::default()
        };
        let service = SpeechService::from_config(&both).unwrap();
        assert_eq!(service.default_provider(), ProviderName::Openai);
        let only_elevenlabs = SpeechConfig {
            elevenlabs_api_key: Some("el-key".into()),
            ..SpeechConfig::default()
        };
        assert_eq!(
            SpeechService::from_config(&only_elevenlabs).unwrap().default_provider(),
            ProviderName::Elevenlabs
        );
        let chosen = SpeechConfig {
            default_provider: Some("echo".into()),
            ..both
        };
        assert_eq!(
            SpeechService::from_config(&chosen).unwrap().default_provider(),
            ProviderName::Echo
        );
    }

    #[test]
    fn a_default_or_base_url_that_cannot_work_refuses_to_start() {
        for (config, variable) in [
            (
                SpeechConfig {
                    default_provider: Some("openai".into()),
                    ..SpeechConfig::default()
                },
                "SPEECH_DEFAULT_PROVIDER",
            ),
            (
                SpeechConfig {
                    default_provider: Some("whisper".into()),
                    ..SpeechConfig::default()
                },
                "SPEECH_DEFAULT_PROVIDER",
            ),
            (
                SpeechConfig {
                    openai_base_url: Some("ftp://x".into()),
                    ..SpeechConfig::default()
                },
                "OPENAI_BASE_URL",
            ),
            (
                SpeechConfig {
                    elevenlabs_api_key: Some("k".into()),
                    elevenlabs_base_url: Some("not a url".into()),
                    ..SpeechConfig::default()
                },
                "ELEVENLABS_BASE_URL",
            ),
        ] {
            let err = SpeechService::from_config(&config).unwrap_err();
            assert!(err.to_string().starts_with(variable), "{err}");
        }
    }

    #[test]
    fn a_provider_that_is_not_configured_is_a_422_naming_provider() {
        let service = SpeechService::from_config(&SpeechConfig::default()).unwrap();
        let err = service.provider(Some(ProviderName::Elevenlabs)).unwrap_err();
        assert!(
            matches!(err, SpeechError::Invalid(ref e) if e[0].field == "provider" && e[0].message.contains("configured: echo")),
            "{err:?}"
        );
        assert_eq!(service.provider(None).unwrap(), ProviderName::Echo);
    }

    #[test]
    fn languages_are_codes() {
        for ok in ["en", "pt-BR", "yue"] {
            assert!(check_language(ok).is_ok(), "{ok}");
        }
        for bad in ["", "en_US", "e n", "x".repeat(17).as_str(), "de\0"] {
            assert!(check_language(bad).is_err(), "{bad:?}");
        }
    }
}
