//! Reading the multipart form of a transcription: part `file` (the audio, bounded while it
//! streams, never past `SPEECH_MAX_AUDIO_BYTES`) and the short text parts `language` and
//! `provider`. Every refusal names the part it concerns.

use actix_multipart::{Multipart, MultipartError};
use actix_web::HttpRequest;
use actix_web::web::{Bytes, BytesMut, Payload};
use futures_util::StreamExt;
use kernel::extract::BodyTimeout;
use kernel::rules::NUL_REFUSED;

use crate::SpeechError;

/// The parts of a transcription form.
#[derive(Debug, Default)]
pub(crate) struct TranscriptionParts {
    /// The audio and the client's file name for it.
    pub file: Option<(Bytes, Option<String>)>,
    /// Part `language`.
    pub language: Option<String>,
    /// Part `provider`.
    pub provider: Option<String>,
}

/// Longest text part, in bytes.
const TEXT_PART_MAX: usize = 64;
/// Room for the boundaries and part headers beside the audio.
const FORM_OVERHEAD: usize = 64 * 1024;

/// Reads the form, refusing an audio part over `limit` bytes (`413`), a truncated or
/// malformed body, unknown or repeated parts (`422` naming the part), within the body
/// timeout (`408`).
pub(crate) async fn read(
    req: &HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<TranscriptionParts, kernel::Error> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit.saturating_add(FORM_OVERHEAD)) {
        return Err(SpeechError::TooLarge { limit }.into());
    }
    let timeout = req.app_data::<BodyTimeout>().copied().unwrap_or_default().0;
    let multipart = Multipart::new(req.headers(), payload);
    tokio::time::timeout(timeout, read_parts(multipart, limit))
        .await
        .map_err(|_| {
            kernel::Error::RequestTimeout(format!(
                "the request body did not arrive within {} s",
                timeout.as_secs_f32()
            ))
        })?
}

async fn read_parts(mut multipart: Multipart, limit: usize) -> Result<TranscriptionParts, kernel::Error> {
    let mut parts = TranscriptionParts::default();
    loop {
        let field = match multipart.next().await {
            None => return Ok(parts),
            // Before a part is known, the audio is what could not be read.
            Some(Err(err)) => return Err(form_error("file", &err)),
            Some(Ok(field)) => field,
        };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" if parts.file.is_some() => return Err(repeated("file")),
            "file" => {
                let filename = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .map(str::to_owned);
                let bytes = read_part(field, "file", limit).await?;
                parts.file = Some((bytes, filename));
            }
            "language" | "provider" => {
                let bytes = read_part(field, &name, TEXT_PART_MAX).await.map_err(|err| match err {
                    kernel::Error::PayloadTooLarge { .. } => {
                        kernel::Error::invalid(name.as_str(), format!("must be at most {TEXT_PART_MAX} bytes"))
                    }
                    other => other,
                })?;
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| kernel::Error::invalid(name.as_str(), "must be UTF-8 text"))?;
                if text.contains('\0') {
                    return Err(kernel::Error::invalid(name.as_str(), NUL_REFUSED));
                }
                let slot = if name == "language" {
                    &mut parts.language
                } else {
                    &mut parts.provider
                };
                if slot.replace(text).is_some() {
                    return Err(repeated(&name));
                }
            }
            other => {
                let shown: String = other.chars().take(64).collect();
                return Err(kernel::Error::invalid(
                    shown,
                    "is not a part of this form: send `file`, and optionally `language` and `provider`",
                ));
            }
        }
    }
}

/// The bytes of one part, refusing more than `limit` as soon as they arrive (`413`).
async fn read_part(mut field: actix_multipart::Field, name: &str, limit: usize) -> Result<Bytes, kernel::Error> {
    let mut bytes = BytesMut::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|err| form_error(name, &err))?;
        if bytes.len() + chunk.len() > limit {
            return Err(SpeechError::TooLarge { limit }.into());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

fn repeated(name: &str) -> kernel::Error {
    kernel::Error::invalid(name, "is sent more than once")
}

/// A body that is not a readable form: `415` when it is not multipart at all, else a `422`
/// naming the part being read.
fn form_error(name: &str, err: &MultipartError) -> kernel::Error {
    match err {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => kernel::Error::UnsupportedMediaType(
            "the body must be multipart/form-data with a `file` part, or JSON with a `file_id`".into(),
        ),
        MultipartError::Incomplete => {
            kernel::Error::invalid(name, "the multipart body ended before this part was complete")
        }
        other => kernel::Error::invalid(name, format!("could not be read from the multipart body: {other}")),
    }
}
