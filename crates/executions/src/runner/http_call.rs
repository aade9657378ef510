//! HTTP tools in a run: the caller's secrets filled into the tool's headers at call time,
//! the request sent through the outbound guard, the answer turned into the tool's result.

use std::time::Duration;

use agents::HttpSpec;
use outbound::{OutboundClient, http_tool};
use secrets::SecretService;
use serde_json::Value;
use uuid::Uuid;

use super::toolbox::arguments_map;

/// What HTTP tools need: the secrets they reference and the guarded client that calls out.
#[derive(Clone)]
pub struct ToolRuntime {
    secrets: SecretService,
    outbound: OutboundClient,
}

impl ToolRuntime {
    /// HTTP tools reading `secrets` and calling through `outbound`.
    pub fn new(secrets: SecretService, outbound: OutboundClient) -> Self {
        Self { secrets, outbound }
    }

    /// Runs one call of an HTTP tool for `owner`: the result text and whether it is an error.
    /// Nothing here fails the run: a missing secret, a refused address, a timeout or a
    /// non-2xx answer is an error result for the model. No secret value reaches the result.
    pub(crate) async fn call(&self, owner: Uuid, spec: &HttpSpec, arguments: &Value) -> (String, bool) {
        let headers: Vec<(String, String)> = spec
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let names = http_tool::secret_names(&headers);
        let secrets = if names.is_empty() {
            Default::default()
        } else {
            match self.secrets.resolve(owner, &names).await {
                Ok(secrets) => secrets,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot read the secrets of an HTTP tool call");
                    return ("error: the tool's secrets could not be read".into(), true);
                }
            }
        };
        let lookup = |name: &str| secrets.get(name).map(|value| value.expose().to_owned());
        let request = match http_tool::prepare(
            spec.method.as_str(),
            &spec.url,
            &headers,
            &arguments_map(arguments),
            &lookup,
            Duration::from_millis(u64::from(spec.timeout_ms)),
            usize::try_from(spec.max_response_bytes).unwrap_or(usize::MAX),
        ) {
            Ok(request) => request,
            Err(problem) => return (format!("error: {problem}"), true),
        };
        let outcome = self.outbound.send(request).await;
        http_tool::result_text(&outcome)
    }
}
