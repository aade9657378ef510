//! How a provider call fails, and how that maps onto the service's error.

/// A failed provider call. Messages never contain an API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// The provider did not answer (or stopped sending) within the configured time.
    #[error("the LLM provider did not answer in time")]
    Timeout,
    /// The provider could not be reached or answered with an error.
    #[error("{}", upstream_display(.status, .message))]
    Upstream {
        /// The HTTP status, when the provider answered at all.
        status: Option<u16>,
        /// The provider's own message, or what went wrong on the way.
        message: String,
    },
    /// The provider's answer broke its wire format (malformed chunk, stream cut short).
    #[error("the LLM provider sent an invalid response: {0}")]
    Protocol(String),
    /// No provider of that name is configured.
    #[error("unknown LLM provider `{0}`")]
    UnknownProvider(String),
}

fn upstream_display(status: &Option<u16>, message: &str) -> String {
    match status {
        Some(status) => format!("the LLM provider answered {status}: {message}"),
        None => format!("the LLM provider failed: {message}"),
    }
}

impl LlmError {
    /// An upstream failure without an HTTP status (connection refused, reset, …).
    pub(crate) fn transport(message: impl Into<String>) -> Self {
        Self::Upstream {
            status: None,
            message: message.into(),
        }
    }

    /// The same error with every occurrence of `secret` blanked out.
    pub(crate) fn redact(self, secret: Option<&str>) -> Self {
        let Some(secret) = secret.filter(|s| !s.is_empty()) else {
            return self;
        };
        let scrub = |text: String| text.replace(secret, "[redacted]");
        match self {
            Self::Upstream { status, message } => Self::Upstream {
                status,
                message: scrub(message),
            },
            Self::Protocol(message) => Self::Protocol(scrub(message)),
            other => other,
        }
    }
}

impl From<LlmError> for kernel::Error {
    fn from(err: LlmError) -> Self {
        match err {
            LlmError::Timeout => Self::UpstreamTimeout(err.to_string()),
            other => Self::Upstream(other.to_string()),
        }
    }
}

/// `error` with its chain of causes, `: `-separated (reqwest hides the useful part in sources).
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_mapping_keeps_the_kind_and_the_message() {
        let timeout: kernel::Error = LlmError::Timeout.into();
        assert_eq!(timeout.status(), 504);

        let upstream: kernel::Error = LlmError::Upstream {
            status: Some(429),
            message: "Rate limit reached".into(),
        }
        .into();
        assert_eq!(upstream.status(), 502);
        assert!(upstream.to_string().contains("Rate limit reached"));

        let protocol: kernel::Error = LlmError::Protocol("bad chunk".into()).into();
        assert_eq!(protocol.status(), 502);
        let unknown: kernel::Error = LlmError::UnknownProvider("nope".into()).into();
        assert_eq!(unknown.status(), 502);
    }

    #[test]
    fn redact_blanks_the_secret() {
        let err = LlmError::Upstream {
            status: Some(401),
            message: "bad key sk-123 given".into(),
        };
        let text = err.redact(Some("sk-123")).to_string();
        assert!(!text.contains("sk-123"));
        assert!(text.contains("[redacted]"));
    }
}
