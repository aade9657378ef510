//! The remote speech providers and what they share.

mod elevenlabs;
mod openai;
mod upstream;

pub(crate) use elevenlabs::ElevenLabsSpeech;
pub(crate) use openai::OpenAiSpeech;
pub(crate) use upstream::build_client;

use crate::SpeechError;

/// `value` of `variable` as an absolute `http(s)` URL (start-up refuses anything else).
pub(crate) fn check_base_url(variable: &str, value: &str) -> Result<url::Url, SpeechError> {
    let url =
        url::Url::parse(value).map_err(|e| SpeechError::Config(format!("{variable}: `{value}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(SpeechError::Config(format!(
            "{variable}: `{value}` is not an http(s) URL"
        )));
    }
    Ok(url)
}
