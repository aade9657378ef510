//! Which requests are idempotent — the authenticated `POST`s under [`IDEMPOTENT_PREFIXES`] —
//! and how the OpenAPI document says so. The middleware and the document read the same
//! operations, so a route is covered exactly when its `Idempotency-Key` is documented.

use actix_web::dev::{ResourceDef, ServiceRequest};
use actix_web::http::Method;
use kernel::idempotency::{HEADER, MAX_KEY_LEN};
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Components, OpenApi, Ref, RefOr, Required, Response};

/// Where idempotent `POST`s live: every authenticated `POST` below one of these accepts an
/// `Idempotency-Key`: the API and the OpenAI-compatible `/v1`.
pub const IDEMPOTENT_PREFIXES: &[&str] = &[kernel::routes::API_PREFIX, openai_compat::router::PREFIX];

/// `POST`s whose bodies are streamed (uploads, up to `FILE_MAX_BYTES` or
/// `SPEECH_MAX_AUDIO_BYTES`), so they are never read whole for a fingerprint: they take no
/// `Idempotency-Key`.
const STREAMED_BODIES: &[&str] = &["/api/v1/files", "/api/v1/audio/transcriptions"];

/// The response header of a replayed answer.
const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// The name of the header parameter component.
const PARAMETER: &str = "IdempotencyKey";

/// The documented paths of every authenticated `POST` below [`IDEMPOTENT_PREFIXES`].
pub struct IdempotentRoutes {
    paths: Vec<ResourceDef>,
}

impl IdempotentRoutes {
    /// The idempotent routes of `doc`.
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let paths = doc
            .paths
            .paths
            .iter()
            .filter(|(path, item)| item.post.as_ref().is_some_and(|op| idempotent(path, op)))
            .map(|(path, _)| ResourceDef::new(path.as_str()))
            .collect();
        Self { paths }
    }

    /// Whether `req` is a `POST` to one of them.
    pub fn covers(&self, req: &ServiceRequest) -> bool {
        // The path as the router matches it (percent-decoded), like the rate limit.
        let path = req.match_info().as_str();
        req.method() == Method::POST && self.paths.iter().any(|def| def.is_match(path))
    }
}

/// Whether `op`, the `POST` of `path`, is idempotent: below a prefix and behind a login.
fn idempotent(path: &str, op: &Operation) -> bool {
    let below = IDEMPOTENT_PREFIXES
        .iter()
        .any(|prefix| path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/')));
    let authenticated = op.security.as_ref().is_some_and(|s| !s.is_empty());
    below && authenticated && !STREAMED_BODIES.contains(&path)
}

/// Documents the `Idempotency-Key` header and its `409`/`422` answers on every idempotent
/// operation of `doc` (run on the assembled document, after every route is merged).
pub fn document(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .parameters
        .insert(PARAMETER.to_owned(), RefOr::T(parameter()));
    let components = components.clone();
    let parameter = RefOr::Ref(Ref::new(format!("#/components/parameters/{PARAMETER}")));
    for (path, item) in &mut doc.paths.paths {
        let Some(op) = item.post.as_mut().filter(|op| idempotent(path, op)) else {
            continue;
        };
        op.parameters.get_or_insert_with(Vec::new).push(parameter.clone());
        let responses = &mut op.responses.responses;
        for (status, response) in responses.iter_mut() {
            if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                response.headers.insert(REPLAYED_HEADER.to_owned(), replayed_header());
            }
        }
        for (status, component) in [("409", "IdempotencyKeyInUse"), ("422", "IdempotencyKeyReused")] {
            let answer = match responses.remove(status) {
                None => RefOr::Ref(Ref::from_response_name(component)),
                Some(existing) => combined(&components, existing, component),
            };
            responses.insert(status.to_owned(), answer);
        }
    }
}

/// The `Idempotent-Replayed` header of a success answer.
fn replayed_header() -> RefOr<Header> {
    RefOr::T(
        HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["true"])),
            ))
            .description(Some(
                "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
            ))
            .build(),
    )
}

/// The header parameter.
fn parameter() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(HEADER)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes the request safe to retry: the first answer to a key (status, body, `Location`) is \
             stored for `IDEMPOTENCY_TTL_SECS` (24 h) and replayed, with `Idempotent-Replayed: true`, to \
             the same request sent again with that key, which is not handled again. Keys are the \
             caller's own. A streamed answer is replayed as `202` with the execution it ran. A server \
             error (5xx) is not stored: the key may then be sent again.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_KEY_LEN))
                .pattern(Some(format!("^[!-~]{{1,{MAX_KEY_LEN}}}$"))),
        ))
        .build()
}

/// `existing` (inline, or a reference into `components`) with the description of the
/// idempotency `component` added: one status has one response.
fn combined(components: &Components, existing: RefOr<Response>, component: &str) -> RefOr<Response> {
    let extra = components
        .responses
        .get(component)
        .and_then(|r| match r {
            RefOr::T(response) => Some(response.description.clone()),
            RefOr::Ref(_) => None,
        })
        .unwrap_or_default();
    let resolved = match &existing {
        RefOr::T(response) => Some(response.clone()),
        RefOr::Ref(reference) => reference
            .ref_location
            .strip_prefix("#/components/responses/")
            .and_then(|name| components.responses.get(name))
            .and_then(|r| match r {
                RefOr::T(response) => Some(response.clone()),
                RefOr::Ref(_) => None,
            }),
    };
    match resolved {
        Some(mut response) => {
            response.description = format!("{} Or: {extra}", response.description);
            RefOr::T(response)
        }
        None => existing,
    }
}
