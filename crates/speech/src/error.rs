//! [`SpeechError`]: how a speech request fails, turned into [`kernel::Error`] once, here.

use kernel::FieldError;

/// Why speech or a transcription did not happen. Messages never hold an API key.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    /// Request fields (or the uploaded audio) break the rules: `422` naming them.
    #[error("request validation failed")]
    Invalid(Vec<FieldError>),
    /// The uploaded audio is larger than the limit (`413`).
    #[error("the audio is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The provider could not be reached, answered with an error, or broke its format (`502`).
    #[error("the speech provider `{provider}` failed: {message}")]
    Upstream {
        /// The provider's name.
        provider: &'static str,
        /// What went wrong (the provider's own message when it sent one).
        message: String,
    },
    /// The provider did not answer, or stopped sending, in time (`504`).
    #[error("the speech provider `{provider}` did not answer in time")]
    Timeout {
        /// The provider's name.
        provider: &'static str,
    },
    /// The stored file could not be read (the file store or the database failed).
    #[error(transparent)]
    Store(kernel::Error),
    /// The configuration cannot work (an unknown default provider, a bad base URL): start-up refuses it.
    #[error("{0}")]
    Config(String),
}

impl SpeechError {
    /// A `422` for one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    /// An upstream failure of `provider`.
    pub(crate) fn upstream(provider: &'static str, message: impl Into<String>) -> Self {
        Self::Upstream {
            provider,
            message: message.into(),
        }
    }

    /// The same error with `secret` blanked out of its message.
    pub(crate) fn redact(self, secret: Option<&str>) -> Self {
        match (self, secret.filter(|s| !s.is_empty())) {
            (Self::Upstream { provider, message }, Some(secret)) => Self::Upstream {
                provider,
                message: message.replace(secret, "[redacted]"),
            },
            (other, _) => other,
        }
    }
}

impl From<SpeechError> for kernel::Error {
    fn from(err: SpeechError) -> Self {
        match err {
            SpeechError::Invalid(errors) => Self::Validation(errors),
            SpeechError::TooLarge { limit } => Self::PayloadTooLarge { limit },
            err @ SpeechError::Upstream { .. } => Self::Upstream(err.to_string()),
            err @ SpeechError::Timeout { .. } => Self::UpstreamTimeout(err.to_string()),
            SpeechError::Store(err) => err,
            SpeechError::Config(message) => Self::Internal(anyhow::Error::msg(message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_chat_routes() {
        let status = |err: SpeechError| kernel::Error::from(err).status();
        assert_eq!(status(SpeechError::invalid("voice", "unknown")), 422);
        assert_eq!(status(SpeechError::TooLarge { limit: 1 }), 413);
        assert_eq!(status(SpeechError::upstream("openai", "boom")), 502);
        assert_eq!(status(SpeechError::Timeout { provider: "openai" }), 504);
    }

    #[test]
    fn redact_blanks_the_key() {
        let err = SpeechError::upstream("openai", "bad key sk-1 given").redact(Some("sk-1"));
        assert!(!err.to_string().contains("sk-1"), "{err}");
    }
}
