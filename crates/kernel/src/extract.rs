//! Request extraction that fails with problem+json: the [`Valid`] extractor, body
//! parsing shared with hand-written handlers, and the actix extractor configs.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError, UrlencodedError};
use actix_web::http::header;
use actix_web::web::{self, Bytes, Json, Query};
use actix_web::{FromRequest, HttpRequest};
use garde::Validate;
use serde::de::DeserializeOwned;

use crate::rules::NUL_REFUSED;
use crate::{Error, FieldError, Result};

/// Runs serde, then garde, on a request part; both kinds of failure are one `422` shape.
///
/// `Valid<Json<T>>` reads a JSON body (`415` for another media type, `413` over the
/// body limit); `Valid<Query<T>>` reads the query string.
#[derive(Debug)]
pub struct Valid<T>(pub T);

impl<T> Valid<T> {
    /// The validated inner extractor.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Valid<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Runs garde's rules on a value, listing every failing field.
pub fn validate<T: Validate>(value: &T) -> Result<()>
where
    T::Context: Default,
{
    crate::rules::check(value).map_err(Error::Validation)
}

/// Parses a JSON object body, naming the first field that does not fit the type.
///
/// Syntax is checked first, so a body that is not JSON at all is always `Malformed`
/// (no field can be named), even when a type error would come earlier in the text.
/// Then every string and object key, at any depth, is checked for NUL.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let value = serde_json::from_slice::<serde_json::Value>(body)
        .map_err(|e| Error::Malformed(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::invalid("", "the body must be a JSON object"));
    }
    refuse_nul(&value, "")?;
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        field_error(&path, &err.into_inner().to_string())
    })
}

/// Refuses (`422` naming the dotted path, `metadata.key` or `tool_ids[0]`) the first
/// string or object key under `value` that holds NUL.
fn refuse_nul(value: &serde_json::Value, path: &str) -> Result<()> {
    use serde_json::Value;
    match value {
        Value::String(text) if text.contains('\0') => Err(Error::invalid(path, NUL_REFUSED)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| refuse_nul(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().try_for_each(|(key, item)| {
            if key.contains('\0') {
                return Err(Error::invalid(path, format!("has a key that {NUL_REFUSED}")));
            }
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            refuse_nul(item, &field)
        }),
        _ => Ok(()),
    }
}

/// Parses an `application/x-www-form-urlencoded` body or query string, naming the first
/// failing field; a name or value holding NUL is refused like in a JSON body.
pub fn parse_urlencoded<T: DeserializeOwned>(input: &[u8]) -> Result<T> {
    for (name, value) in form_urlencoded::parse(input) {
        if name.contains('\0') {
            return Err(Error::invalid("", format!("a parameter name {NUL_REFUSED}")));
        }
        if value.contains('\0') {
            return Err(Error::invalid(name, NUL_REFUSED));
        }
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(input));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        field_error(&path, &err.into_inner().to_string())
    })
}

/// Builds the field error of a serde failure: serde reports a missing field on its
/// parent, so the field name is lifted out of the message.
fn field_error(path: &str, message: &str) -> Error {
    let path = if path == "." { "" } else { path };
    let message = message.split(" at line ").next().unwrap_or(message).to_owned();
    let field = match message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        Some(missing) if path.is_empty() => missing.to_owned(),
        Some(missing) => format!("{path}.{missing}"),
        None => path.to_owned(),
    };
    let message = if message.starts_with("missing field") {
        "is required".to_owned()
    } else {
        message
    };
    Error::Validation(vec![FieldError::new(field, message)])
}

/// Whether the request declares a media type ending in `json`.
pub fn is_json(req: &HttpRequest) -> bool {
    media_type(req).is_some_and(|m| m == "application/json" || m.ends_with("+json"))
}

/// Whether the request declares an urlencoded form body.
pub fn is_form(req: &HttpRequest) -> bool {
    media_type(req).is_some_and(|m| m == "application/x-www-form-urlencoded")
}

fn media_type(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// The largest request body the service reads, in bytes (registered as app data).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

impl Default for BodyLimit {
    fn default() -> Self {
        Self(1024 * 1024)
    }
}

/// How long a client may take to send a whole request body (registered as app data).
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub std::time::Duration);

impl Default for BodyTimeout {
    fn default() -> Self {
        Self(std::time::Duration::from_secs(30))
    }
}

/// Refuses (`415`) a body sent with a `Content-Encoding` other than `identity`: the
/// service decodes none, and reading a compressed body as plain text would misread it.
fn refuse_content_encoding(req: &HttpRequest) -> Result<()> {
    let codings = req
        .headers()
        .get_all(header::CONTENT_ENCODING)
        .flat_map(|value| value.to_str().unwrap_or("?").split(','))
        .map(|coding| coding.trim().to_ascii_lowercase())
        .filter(|coding| !coding.is_empty() && coding != "identity")
        .collect::<Vec<_>>();
    if codings.is_empty() {
        return Ok(());
    }
    Err(Error::UnsupportedMediaType(format!(
        "Content-Encoding `{}` is not supported: send the body uncompressed",
        codings.join(", ")
    )))
}

/// Reads the whole body, refusing (`413`) as soon as it is known to exceed [`BodyLimit`],
/// (`415`) a body with a `Content-Encoding`, and (`408`) one that does not arrive whole
/// within [`BodyTimeout`].
pub async fn read_body<S>(req: &HttpRequest, payload: &mut S) -> Result<Bytes>
where
    S: futures_util::Stream<Item = std::result::Result<Bytes, PayloadError>> + Unpin,
{
    refuse_content_encoding(req)?;
    let timeout = req.app_data::<BodyTimeout>().copied().unwrap_or_default().0;
    tokio::time::timeout(timeout, read_limited(req, payload))
        .await
        .map_err(|_| {
            Error::RequestTimeout(format!(
                "the request body did not arrive within {} s",
                timeout.as_secs_f32()
            ))
        })?
}

async fn read_limited<S>(req: &HttpRequest, payload: &mut S) -> Result<Bytes>
where
    S: futures_util::Stream<Item = std::result::Result<Bytes, PayloadError>> + Unpin,
{
    use futures_util::StreamExt;

    let limit = req.app_data::<BodyLimit>().copied().unwrap_or_default().0;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(Error::PayloadTooLarge { limit });
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            PayloadError::Overflow => Error::PayloadTooLarge { limit },
            other => Error::BadRequest(format!("the request body could not be read: {other}")),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(Error::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

impl<T> FromRequest for Valid<Json<T>>
where
    T: DeserializeOwned + Validate + 'static,
    T::Context: Default,
{
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json(&req) {
                return Err(Error::UnsupportedMediaType(
                    "the body must be JSON (Content-Type: application/json)".into(),
                ));
            }
            let body = read_body(&req, &mut payload).await?;
            let value: T = parse_json(&body)?;
            validate(&value)?;
            Ok(Valid(Json(value)))
        })
    }
}

impl<T> FromRequest for Valid<Query<T>>
where
    T: DeserializeOwned + Validate + 'static,
    T::Context: Default,
{
    type Error = Error;
    type Future = std::future::Ready<Result<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready((|| {
            let value: T = parse_urlencoded(req.query_string().as_bytes())?;
            validate(&value)?;
            Ok(Valid(Query(value)))
        })())
    }
}

/// actix's own JSON extractor, failing with problem+json.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(move |err, _| {
        match err {
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                Error::PayloadTooLarge { limit }
            }
            JsonPayloadError::ContentType => Error::UnsupportedMediaType("the body must be JSON".into()),
            JsonPayloadError::Deserialize(e) => field_error("", &e.to_string()),
            other => Error::BadRequest(other.to_string()),
        }
        .into()
    })
}

/// actix's own query extractor, failing with problem+json.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| match err {
        QueryPayloadError::Deserialize(e) => field_error("", &e.to_string()).into(),
        other => Error::BadRequest(other.to_string()).into(),
    })
}

/// actix's own path extractor: a path segment that does not parse names no resource (`404`).
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _| match err {
        PathError::Deserialize(_) => Error::NotFound("no resource has this id".into()).into(),
        other => Error::BadRequest(other.to_string()).into(),
    })
}

/// actix's own form extractor, failing with problem+json.
pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default()
        .limit(limit)
        .error_handler(move |err, _| match err {
            UrlencodedError::Overflow { .. } => Error::PayloadTooLarge { limit }.into(),
            UrlencodedError::ContentType => Error::UnsupportedMediaType("the body must be a form".into()).into(),
            other => field_error("", &other.to_string()).into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Validate, Debug)]
    struct Sample {
        #[garde(length(min = 3))]
        name: String,
        #[garde(range(min = 1, max = 5))]
        count: u32,
    }

    fn fields(err: Error) -> Vec<String> {
        match err {
            Error::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn wrong_type_names_the_field() {
        let err = parse_json::<Sample>(br#"{"name":"abc","count":"x"}"#).unwrap_err();
        assert_eq!(fields(err), ["count"]);
    }

    #[test]
    fn missing_field_is_named() {
        let err = parse_json::<Sample>(br#"{"name":"abc"}"#).unwrap_err();
        assert_eq!(fields(err), ["count"]);
    }

    #[test]
    fn malformed_json_names_no_field() {
        let err = parse_json::<Sample>(br#"{"name":"#).unwrap_err();
        assert!(matches!(err, Error::Malformed(_)), "{err:?}");
    }

    #[test]
    fn every_rule_violation_is_listed() {
        let value = parse_json::<Sample>(br#"{"name":"a","count":9}"#).unwrap();
        let mut failing = fields(validate(&value).unwrap_err());
        failing.sort();
        assert_eq!(failing, ["count", "name"]);
    }

    #[test]
    fn nul_anywhere_in_a_body_names_its_path() {
        let err = parse_json::<serde_json::Value>(br#"{"a":{"b":["x","y\u0000"]}}"#).unwrap_err();
        assert_eq!(fields(err), ["a.b[1]"]);
        let err = parse_json::<serde_json::Value>(br#"{"meta":{"k\u0000":1}}"#).unwrap_err();
        assert_eq!(fields(err), ["meta"]);
    }

    #[test]
    fn nul_in_a_query_parameter_names_it() {
        let err = parse_urlencoded::<Sample>(b"name=a%00b&count=1").unwrap_err();
        assert_eq!(fields(err), ["name"]);
    }

    #[test]
    fn query_type_errors_name_the_field() {
        let err = parse_urlencoded::<Sample>(b"name=abc&count=many").unwrap_err();
        assert_eq!(fields(err), ["count"]);
    }
}
