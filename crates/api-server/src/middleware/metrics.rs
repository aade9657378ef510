//! Prometheus metrics of every response, and `GET /metrics` to read them.
//!
//! `{namespace}_http_requests_total` (counter) and `{namespace}_http_requests_duration_seconds`
//! (histogram, Prometheus' default buckets), both labelled `endpoint` (the route pattern, so
//! ids never become label values; `UNMATCHED` when no route matched), `method` and `status`.
//! A response is counted when its body is done (dropped), so a stream's duration is the whole
//! stream. `GET /metrics` answers the registry in the text format, whatever the routes say.
//!
//! The same metrics, labels and answers as `actix-web-prom` (which this replaces), at a
//! fraction of its cost per request: one route match instead of two, and no per-request
//! copies of the path, map of path parameters or pattern formatting. Each worker keeps the
//! labelled series it has used (up to [`CACHED_SERIES`]), so counting a response is two
//! atomic updates instead of two hashed, locked look-ups of the label values.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::{Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

/// Where the metrics are read.
const ENDPOINT: &str = "/metrics";
/// The `endpoint` label of a request no route matched.
const UNMATCHED: &str = "UNMATCHED";
/// The labels of both metrics, in this order.
const LABELS: [&str; 3] = ["endpoint", "method", "status"];
/// At most this many labelled series are kept by each worker; the rest are looked up by
/// their label values each time (a client inventing methods cannot grow the cache).
const CACHED_SERIES: usize = 256;

/// The metrics of one process (cheap to clone: every worker shares them).
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    requests_total: IntCounterVec,
    duration_seconds: HistogramVec,
}

impl Metrics {
    /// Registers the two metrics under `namespace` in a registry of their own.
    pub fn new(namespace: &str) -> prometheus::Result<Self> {
        let requests_total = IntCounterVec::new(
            Opts::new("http_requests_total", "Total number of HTTP requests").namespace(namespace),
            &LABELS,
        )?;
        let duration_seconds = HistogramVec::new(
            HistogramOpts::new(
                "http_requests_duration_seconds",
                "HTTP request duration in seconds for all requests",
            )
            .namespace(namespace),
            &LABELS,
        )?;
        let registry = Registry::new();
        registry.register(Box::new(requests_total.clone()))?;
        registry.register(Box::new(duration_seconds.clone()))?;
        Ok(Self(Arc::new(Inner {
            registry,
            requests_total,
            duration_seconds,
        })))
    }

    /// The registry in Prometheus' text format.
    fn render(&self) -> Bytes {
        let mut out = Vec::new();
        // Encoding gathered metrics into a `Vec` fails only for invalid metric families,
        // which this registry cannot hold; an empty answer would be the result.
        let _ = TextEncoder::new().encode(&self.0.registry.gather(), &mut out);
        Bytes::from(out)
    }
}

impl<S, B> Transform<S, ServiceRequest> for Metrics
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<Counted<B>, Counted<Bytes>>>;
    type Error = actix_web::Error;
    type Transform = MetricsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(MetricsService {
            service,
            local: Rc::new(Local {
                metrics: self.clone(),
                series: RefCell::new(HashMap::default()),
            }),
        }))
    }
}

/// The middleware service (one per worker).
pub struct MetricsService<S> {
    service: S,
    local: Rc<Local>,
}

/// The metrics as one worker uses them: the series it has counted into, by their labels.
struct Local {
    metrics: Metrics,
    /// Hashed with foldhash: SipHash, the standard map's default, was most of a look-up.
    series: RefCell<HashMap<Labels, Series, foldhash::fast::RandomState>>,
}

/// The `endpoint`, `method` and `status` of a response.
#[derive(PartialEq, Eq, Hash)]
struct Labels {
    endpoint: Label,
    method: Method,
    status: StatusCode,
}

/// The two labelled series of one [`Labels`].
struct Series {
    duration_seconds: Histogram,
    requests_total: IntCounter,
}

impl Local {
    /// Counts one response with these labels, taking `seconds`.
    fn count(&self, labels: Labels, seconds: f64) {
        let mut series = self.series.borrow_mut();
        if let Some(known) = series.get(&labels) {
            known.duration_seconds.observe(seconds);
            known.requests_total.inc();
            return;
        }
        let values = [labels.endpoint.as_str(), labels.method.as_str(), labels.status.as_str()];
        let inner = &self.metrics.0;
        let new = Series {
            duration_seconds: inner.duration_seconds.with_label_values(&values),
            requests_total: inner.requests_total.with_label_values(&values),
        };
        new.duration_seconds.observe(seconds);
        new.requests_total.inc();
        if series.len() < CACHED_SERIES {
            series.insert(labels, new);
        }
    }
}

impl<S, B> Service<ServiceRequest> for MetricsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<Counted<B>, Counted<Bytes>>>;
    type Error = actix_web::Error;
    /// The inner future, counted when ready (no boxed future of this layer).
    type Future = Counting<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        Counting {
            started: Instant::now(),
            local: Rc::clone(&self.local),
            answer: self.service.call(req),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner service's answer, to be labelled and counted once it is ready.
    pub struct Counting<F> {
        #[pin]
        answer: F,
        started: Instant,
        local: Rc<Local>,
    }
}

impl<F, B> std::future::Future for Counting<F>
where
    F: std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    B: MessageBody,
{
    type Output = Result<ServiceResponse<EitherBody<Counted<B>, Counted<Bytes>>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = std::task::ready!(this.answer.poll(cx))?;
        Poll::Ready(Ok(counted(res, Rc::clone(this.local), *this.started)))
    }
}

/// The answer with its body counted when done (or, for `GET /metrics`, the registry).
fn counted<B: MessageBody>(
    res: ServiceResponse<B>,
    local: Rc<Local>,
    started: Instant,
) -> ServiceResponse<EitherBody<Counted<B>, Counted<Bytes>>> {
    let req = res.request();
    let method = req.method().clone();
    // The route's pattern, matched once (the path of `GET /metrics` itself).
    let (endpoint, read) = match req.match_pattern() {
        Some(pattern) => (Label::Pattern(pattern), false),
        None if method == Method::GET && req.path() == ENDPOINT => (Label::Static(ENDPOINT), true),
        None => (Label::Static(UNMATCHED), false),
    };
    res.map_body(move |head, body| {
        if read {
            head.status = StatusCode::OK;
            head.headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
        }
        let record = Record {
            local,
            started,
            labels: Some(Labels {
                endpoint,
                method,
                status: head.status,
            }),
        };
        if read {
            let body = record.local.metrics.render();
            EitherBody::right(Counted { body, record })
        } else {
            EitherBody::left(Counted { body, record })
        }
    })
}

/// An `endpoint` label value.
#[derive(PartialEq, Eq, Hash)]
enum Label {
    Pattern(String),
    Static(&'static str),
}

impl Label {
    fn as_str(&self) -> &str {
        match self {
            Self::Pattern(pattern) => pattern,
            Self::Static(label) => label,
        }
    }
}

/// What is counted once the response is done.
struct Record {
    local: Rc<Local>,
    started: Instant,
    labels: Option<Labels>,
}

impl Drop for Record {
    fn drop(&mut self) {
        if let Some(labels) = self.labels.take() {
            self.local.count(labels, self.started.elapsed().as_secs_f64());
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body that is counted when it is dropped (done or abandoned).
    pub struct Counted<B> {
        #[pin]
        body: B,
        record: Record,
    }
}

impl<B: MessageBody> MessageBody for Counted<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.project().body.poll_next(cx)
    }
}
