//! Rendering [`Error`] as an HTTP problem+json response.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use crate::Error;
use crate::context::RequestContext;
use crate::problem::{PROBLEM_JSON, Problem};

/// The `Retry-After` of a `503`: a lost database connection is replaced within a second or two.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 1;

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let ctx = RequestContext::current();
        let (instance, request_id) = ctx.map(|c| (c.path, c.request_id)).unwrap_or_default();
        if let Error::Internal(err) = self {
            tracing::error!(request_id = %request_id, error = ?err, "internal error");
        }
        let problem = Problem::from_error(self, instance, request_id);
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            Error::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Error::RateLimited { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Error::Unavailable(_) => {
                res.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER_SECS.to_string()));
            }
            Error::MethodNotAllowed { allow } => {
                res.insert_header((header::ALLOW, allow.join(", ")));
            }
            _ => {}
        }
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        res.body(body)
    }
}
