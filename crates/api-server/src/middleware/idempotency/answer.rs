//! Running a claimed request and recording its answer; replaying a recorded one.

use std::rc::Rc;

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use kernel::context::RequestContext;
use kernel::idempotency::{IdempotencyStore, Recorded, StreamReplay};
use kernel::problem::PROBLEM_JSON;
use serde_json::{Value, json};
use uuid::Uuid;

/// The header that marks a replayed answer.
static REPLAYED: header::HeaderName = header::HeaderName::from_static("idempotent-replayed");

/// The header naming the execution a streamed answer runs.
const EXECUTION_ID: &str = "x-execution-id";

/// The largest answer stored for replay; a larger one is passed on and its key released.
const MAX_RECORDED_BYTES: usize = 4 * 1024 * 1024;

/// A key this request holds: recorded with its answer, or released so it may run again —
/// also when the request is dropped half-way (a panic, a server stopping). A client that
/// leaves does not drop it: the request completes and its answer is recorded for the retry.
pub(super) struct Claimed {
    store: IdempotencyStore,
    id: Uuid,
    settled: bool,
}

impl Claimed {
    pub(super) fn new(store: IdempotencyStore, id: Uuid) -> Self {
        Self {
            store,
            id,
            settled: false,
        }
    }

    /// Runs `req` and keeps its answer: a server error or a `no-store` answer releases the
    /// key, a stream records its execution, any other answer is stored whole.
    pub(super) async fn run<S, B>(
        mut self,
        service: Rc<S>,
        req: ServiceRequest,
    ) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error>
    where
        S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
        B: MessageBody + 'static,
    {
        let res = match service.call(req).await {
            Ok(res) => res,
            Err(err) => {
                self.release().await;
                return Err(err);
            }
        };
        // A server error may go better next time; an answer marked `no-store` holds a
        // secret shown once (a new API key) that must not be kept anywhere, so a retry
        // runs again instead of replaying it.
        if res.status().is_server_error() || forbids_storing(res.headers()) {
            self.release().await;
            return Ok(res.map_into_left_body());
        }
        if is_event_stream(res.headers()) {
            let execution_id = res
                .headers()
                .get(EXECUTION_ID)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| Uuid::parse_str(v).ok());
            self.record(Recorded::Stream { execution_id }).await;
            return Ok(res.map_into_left_body());
        }
        let fits = match res.response().body().size() {
            BodySize::None => true,
            BodySize::Sized(len) => usize::try_from(len).is_ok_and(|len| len <= MAX_RECORDED_BYTES),
            BodySize::Stream => false,
        };
        if !fits {
            self.release().await;
            return Ok(res.map_into_left_body());
        }
        let (http_req, res) = res.into_parts();
        let (head, body) = res.into_parts();
        let body = match actix_web::body::to_bytes_limited(body, MAX_RECORDED_BYTES).await {
            Ok(Ok(body)) => body,
            _ => {
                self.release().await;
                let err = kernel::Error::Internal(anyhow::anyhow!("the answer's body could not be read"));
                return Ok(ServiceResponse::new(http_req, err.error_response()).map_into_right_body());
            }
        };
        let header = |name: header::HeaderName| {
            head.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        self.record(Recorded::Response {
            status: head.status().as_u16(),
            content_type: header(header::CONTENT_TYPE),
            location: header(header::LOCATION),
            body: body.to_vec(),
        })
        .await;
        let res = head.set_body(body).map_into_boxed_body();
        Ok(ServiceResponse::new(http_req, res).map_into_right_body())
    }

    async fn record(&mut self, answer: Recorded) {
        self.settled = true;
        if let Err(err) = self.store.record(self.id, answer).await {
            // The request itself succeeded: its answer goes out; retries see the key in use
            // until it expires.
            tracing::warn!(error = %err, "the answer to an idempotency key could not be stored");
        }
    }

    async fn release(&mut self) {
        self.settled = true;
        if let Err(err) = self.store.release(self.id).await {
            tracing::warn!(error = %err, "an idempotency key could not be released");
        }
    }
}

impl Drop for Claimed {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (store, id) = (self.store.clone(), self.id);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = store.release(id).await {
                    tracing::warn!(error = %err, "an abandoned idempotency key could not be released");
                }
            });
        }
    }
}

/// Whether the answer says `Cache-Control: no-store`.
fn forbids_storing(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|directive| directive.trim().eq_ignore_ascii_case("no-store"))
}

fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/event-stream"))
}

/// The stored answer again, marked `Idempotent-Replayed: true`.
pub(super) async fn replay(req: &HttpRequest, user_id: Uuid, recorded: Recorded) -> HttpResponse {
    let mut res = match recorded {
        Recorded::Response {
            status,
            content_type,
            location,
            body,
        } => whole(status, content_type, location, body),
        Recorded::Stream { execution_id } => execution(req, user_id, execution_id).await,
    };
    res.headers_mut()
        .insert(REPLAYED.clone(), HeaderValue::from_static("true"));
    res
}

/// A stored whole answer; a problem body gets this request's id, as every problem does.
fn whole(status: u16, content_type: Option<String>, location: Option<String>, body: Vec<u8>) -> HttpResponse {
    let mut res = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    if let Some(location) = location {
        res.insert_header((header::LOCATION, location));
    }
    let body = match content_type {
        Some(content_type) => {
            let problem = content_type == PROBLEM_JSON;
            res.insert_header((header::CONTENT_TYPE, content_type));
            if problem { with_current_request_id(body) } else { body }
        }
        None => body,
    };
    res.body(body)
}

/// A stream is not replayed: `202` with the execution it ran, read through the
/// [`StreamReplay`] hook when one is registered, else only its id.
async fn execution(req: &HttpRequest, user_id: Uuid, execution_id: Option<Uuid>) -> HttpResponse {
    let mut res = HttpResponse::Accepted();
    let Some(id) = execution_id else {
        return res.json(json!({"execution_id": null}));
    };
    res.insert_header((header::LOCATION, kernel::routes::api_path(&format!("/executions/{id}"))));
    let execution = match req.app_data::<web::Data<dyn StreamReplay>>() {
        Some(hook) => match hook.execution(user_id, id).await {
            Ok(execution) => execution,
            Err(err) => return err.error_response(),
        },
        None => None,
    };
    res.json(execution.unwrap_or_else(|| json!({"execution_id": id})))
}

/// A stored problem body with the `request_id` of the request being answered.
fn with_current_request_id(body: Vec<u8>) -> Vec<u8> {
    let Some(context) = RequestContext::current() else {
        return body;
    };
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut problem)) => {
            problem.insert("request_id".into(), Value::String(context.request_id));
            serde_json::to_vec(&problem).unwrap_or(body)
        }
        _ => body,
    }
}
