//! The resolver reqwest uses: it resolves with tokio and hands reqwest only the addresses
//! the policy allows, so the connection goes to an address that was checked and the name
//! is never resolved a second time (no DNS-rebinding window).

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::OutboundPolicy;

/// Filters every resolution through the policy.
pub(crate) struct GuardedResolver {
    pub(crate) policy: Arc<OutboundPolicy>,
}

/// A host whose every address was refused; found again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to internal addresses")]
pub(crate) struct RefusedHost {
    pub(crate) host: String,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if resolved.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            let trusted = policy.allows_host_name(&host);
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| trusted || policy.allows_address(addr.ip()))
                .collect();
            if allowed.is_empty() {
                tracing::info!(host = %host, "outbound call refused: internal address");
                return Err(Box::new(RefusedHost { host }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
