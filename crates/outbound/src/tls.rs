//! The one TLS setup of the server's HTTP clients (outbound calls, and the LLM providers'
//! client in crates/llm): rustls on `ring`, handed to reqwest ready-made so no process-wide
//! provider is needed (and aws-lc is never built).

use std::sync::Arc;

use crate::OutboundError;

/// The client TLS of outbound calls.
pub(crate) fn tls_config() -> Result<rustls::ClientConfig, OutboundError> {
    client_tls().map_err(|err| OutboundError::Client(format!("could not configure TLS: {err}")))
}

/// Client TLS for HTTP/1.1 on `ring`: trusts the system's roots; where a container has
/// none, the bundled Mozilla roots.
pub fn client_tls() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        rustls::ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let builder = match rustls_platform_verifier::Verifier::new(provider) {
        Ok(verifier) => builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)),
        Err(err) => {
            tracing::warn!(error = %err, "no system CA certificates; trusting the bundled Mozilla roots");
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            builder.with_root_certificates(roots)
        }
    };
    let mut config = builder.with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
