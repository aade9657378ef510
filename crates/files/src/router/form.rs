//! Reading an upload's `multipart/form-data` body part by part: the `file` part streams to
//! the store as it arrives; small parts (`purpose`, unknown ones) are read within a bound.

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::HttpRequest;
use actix_web::web::{self, Bytes};
use futures_util::{StreamExt, TryStreamExt};
use uuid::Uuid;

use crate::error::{FileError, Result};
use crate::schemas::{File, Purpose};
use crate::service::{FilesService, Received};

/// The most a part other than `file` may hold.
const SMALL_PART_MAX: usize = 64 * 1024;

/// Reads the upload in `payload` and records it for `owner_id`: the stored [`File`].
pub(super) async fn upload(
    files: &FilesService,
    owner_id: Uuid,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<File> {
    let mut parts = Multipart::new(req.headers(), payload);
    let mut purpose = None;
    let mut received: Option<Received> = None;
    let outcome = read_parts(files, owner_id, &mut parts, &mut purpose, &mut received).await;
    match (outcome, received) {
        (Ok(()), Some(received)) => files.commit(received, purpose.unwrap_or_default()).await,
        (Ok(()), None) => Err(FileError::Missing),
        (Err(err), received) => {
            if let Some(received) = received {
                files.discard(received).await;
            }
            Err(err)
        }
    }
}

async fn read_parts(
    files: &FilesService,
    owner_id: Uuid,
    parts: &mut Multipart,
    purpose: &mut Option<Purpose>,
    received: &mut Option<Received>,
) -> Result<()> {
    while let Some(part) = parts.next().await {
        let part = part.map_err(form_error)?;
        match part.name() {
            Some("file") if received.is_some() => {
                return Err(FileError::InvalidField {
                    field: "file",
                    message: "only one `file` part is accepted per upload".into(),
                });
            }
            Some("file") => {
                let filename = part
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .unwrap_or("")
                    .to_owned();
                let chunks = part.map_err(form_error);
                *received = Some(files.receive(owner_id, &filename, *purpose, chunks).await?);
            }
            Some("purpose") => {
                let text = small_part(part).await?;
                let parsed = std::str::from_utf8(&text).ok().and_then(|t| Purpose::parse(t.trim()));
                *purpose = Some(parsed.ok_or_else(|| FileError::InvalidField {
                    field: "purpose",
                    message: "must be `attachment` or `avatar`".into(),
                })?);
            }
            // Unknown parts are ignored, like unknown JSON fields.
            _ => {
                small_part(part).await?;
            }
        }
    }
    Ok(())
}

/// The whole of a small part, at most [`SMALL_PART_MAX`] bytes.
async fn small_part(mut part: Field) -> Result<Bytes> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(form_error)?;
        if body.len() + chunk.len() > SMALL_PART_MAX {
            return Err(FileError::TooLarge {
                limit: SMALL_PART_MAX as u64,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A body that is not a well-formed multipart form.
fn form_error(err: MultipartError) -> FileError {
    use MultipartError as E;
    match err {
        E::ContentTypeMissing | E::ContentTypeParse | E::ContentTypeIncompatible | E::BoundaryMissing => {
            FileError::NotMultipart
        }
        other => FileError::Truncated(other.to_string()),
    }
}
