//! Per-request context (request id, method, path) that error rendering and the log read.
//!
//! The request-id middleware runs the rest of the request inside [`RequestContext::scope`];
//! actix renders handler and extractor errors inside that same future, so a problem body
//! can carry the request id without every handler threading it through, and every log line
//! written by the request's task carries its id, method and path (the log formatter reads
//! it with [`RequestContext::with_current`]) without a tracing span per request.

use std::borrow::Cow;
use std::future::Future;

/// What the request-id middleware knows about the request being handled.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The `X-Request-Id` of this request.
    pub request_id: String,
    /// The request method (`GET`, …).
    pub method: Cow<'static, str>,
    /// The request path, used as the problem's `instance`.
    pub path: String,
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

impl RequestContext {
    /// Runs `fut` with this context current.
    pub fn scope<F: Future>(self, fut: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self, fut)
    }

    /// The context of the request being handled, if any.
    pub fn current() -> Option<RequestContext> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// `f` of the context of the request being handled (without copying it), if any.
    pub fn with_current<T>(f: impl FnOnce(&RequestContext) -> T) -> Option<T> {
        CURRENT.try_with(f).ok()
    }
}
