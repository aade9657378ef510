//! [`File`] (what reads show), [`Purpose`], the upload form as documented, and the list query.

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::entities::file;

/// What a file is for: it decides the accepted types and the size cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// Sent with messages and runs: images, PDF, plain text, audio (≤ `FILE_MAX_BYTES`).
    #[default]
    Attachment,
    /// A user's picture: PNG, JPEG or WebP (≤ 2 MiB).
    Avatar,
}

impl Purpose {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attachment => "attachment",
            Self::Avatar => "avatar",
        }
    }

    /// The purpose named `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "attachment" => Some(Self::Attachment),
            "avatar" => Some(Self::Avatar),
            _ => None,
        }
    }
}

/// An uploaded file's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct File {
    /// The file's id.
    pub id: Uuid,
    /// The user who uploaded it.
    pub owner_id: Uuid,
    /// The name the client gave it, without any directory (at most 255 characters).
    #[schema(example = "diagram.png", max_length = 255)]
    pub filename: String,
    /// The media type detected from the content (never the client's `Content-Type`).
    #[schema(example = "image/png")]
    pub content_type: String,
    /// Size in bytes.
    #[schema(minimum = 1)]
    pub bytes: u64,
    /// SHA-256 of the content, lowercase hex; the download's `ETag` is it in quotes.
    #[schema(pattern = "^[0-9a-f]{64}$", min_length = 64, max_length = 64)]
    pub sha256: String,
    /// What it was uploaded for.
    pub purpose: Purpose,
    /// Upload time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
}

impl From<file::Model> for File {
    fn from(m: file::Model) -> Self {
        Self {
            id: m.id,
            owner_id: m.owner_id,
            filename: m.filename,
            content_type: m.content_type,
            bytes: u64::try_from(m.bytes).unwrap_or(0),
            sha256: m.sha256,
            // Only the two purposes are ever written.
            purpose: Purpose::parse(&m.purpose).unwrap_or_default(),
            created_at: m.created_at,
        }
    }
}

/// The `multipart/form-data` body of an upload (documentation only: the handler reads the
/// parts as a stream).
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "describes the multipart form in the OpenAPI document")]
pub struct FileUpload {
    /// The content. Its type is detected from its bytes; the part's `filename` is kept.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
    /// `attachment` (default) or `avatar`.
    #[schema(required = false, nullable = false)]
    pub purpose: Option<Purpose>,
}

/// Query of `GET /files`.
#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// Cursor from the previous page's `next_cursor`.
    #[garde(skip)]
    pub cursor: Option<String>,
}
