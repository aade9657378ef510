//! The `/files` routes: thin handlers that extract, call the service, and answer.

mod form;
pub mod range;

use actix_web::body::SizedStream;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::{self, Json, Query};
use actix_web::{HttpRequest, HttpResponse, ResponseError, delete, get, post};
use kernel::openapi as problems;
use kernel::{Page, PageParams, Principal, Result, Valid};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use self::range::Wanted;
use crate::FilesService;
use crate::error::FileError;
use crate::schemas::{File, FileUpload, ListQuery};
use crate::service::Content;

/// Registers the `/files` routes (mount under `kernel::routes::API_PREFIX`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/files")
            .service(upload_file)
            .service(list_files)
            .service(read_file)
            .service(download_file)
            .service(delete_file),
    );
}

/// Uploads a file (`multipart/form-data`: a `file` part, an optional `purpose` part). The
/// type is detected from the content; the body is streamed to the store and refused as
/// soon as it breaks a rule (type, size, quota), leaving nothing stored.
#[utoipa::path(
    tag = "files",
    path = "",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body(content = FileUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The stored file", body = File,
            headers(("Location" = String, description = "URL of the new file"))),
        (status = 401, response = problems::Unauthorized),
        (status = 413, description = "Larger than the purpose's cap (`code: payload_too_large`), or past the \
            caller's `FILE_QUOTA_BYTES` (`code: quota_exceeded`, with `quota_bytes` and `used_bytes`)",
            body = kernel::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `multipart/form-data`, or content of a type the purpose does not accept",
            body = kernel::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No `file` part, an empty file or a truncated body (`errors` names `file`), \
            or an unknown `purpose`", body = kernel::Problem, content_type = "application/problem+json"),
        (status = 503, response = problems::ServiceUnavailable),
    )
)]
#[post("")]
pub(crate) async fn upload_file(
    principal: Principal,
    files: web::Data<FilesService>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let file = form::upload(&files, principal.user_id, &req, payload).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            kernel::routes::api_path(&format!("/files/{}", file.id)),
        ))
        .json(file))
}

/// Lists the caller's files, newest first.
#[utoipa::path(
    tag = "files",
    path = "",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of files", body = Page<File>),
        (status = 401, response = problems::Unauthorized),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[get("")]
pub(crate) async fn list_files(
    principal: Principal,
    files: web::Data<FilesService>,
    query: Valid<Query<ListQuery>>,
) -> Result<Json<Page<File>>> {
    let query = query.into_inner().into_inner();
    let page = PageParams::parse(query.limit, query.cursor.as_deref())?;
    Ok(Json(files.list(principal.user_id, &page).await?))
}

/// One of the caller's files (its metadata).
#[utoipa::path(
    tag = "files",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("file_id" = Uuid, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file", body = File),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[get("/{file_id}")]
pub(crate) async fn read_file(
    principal: Principal,
    files: web::Data<FilesService>,
    path: web::Path<Uuid>,
) -> Result<Json<File>> {
    Ok(Json(files.get(principal.user_id, path.into_inner()).await?))
}

/// The content of one of the caller's files, streamed: all of it, or one `Range:
/// bytes=a-b` (`206`); `If-None-Match` with its `ETag` answers `304`.
#[utoipa::path(
    tag = "files",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(
        ("file_id" = Uuid, Path, description = "The file's id"),
        ("Range" = Option<String>, Header, description = "One byte range: `bytes=a-b`, `bytes=a-` or `bytes=-n` \
            (several ranges, or one that is not `bytes=…`, are answered with the whole file, as RFC 9110 allows)", example = "bytes=0-1023"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier download: `304` when it still matches"),
    ),
    responses(
        (status = 200, description = "The whole content, of the detected `Content-Type`",
            content(
                (kernel::binary::Binary = "image/png"),
                (kernel::binary::Binary = "image/jpeg"),
                (kernel::binary::Binary = "image/webp"),
                (kernel::binary::Binary = "application/pdf"),
                (kernel::binary::Binary = "text/plain"),
                (kernel::binary::Binary = "audio/wav"),
                (kernel::binary::Binary = "audio/mpeg"),
                (kernel::binary::Binary = "audio/ogg"),
                (kernel::binary::Binary = "audio/webm")), headers(
                ("Content-Length" = u64, description = "The file's size"),
                ("ETag" = String, description = "`\"<sha256>\"`"),
                ("Content-Disposition" = String, description = "`attachment; filename=\"…\"`"),
                ("Accept-Ranges" = String, description = "`bytes`"))),
        (status = 206, description = "The requested range", content(
                (kernel::binary::Binary = "image/png"),
                (kernel::binary::Binary = "image/jpeg"),
                (kernel::binary::Binary = "image/webp"),
                (kernel::binary::Binary = "application/pdf"),
                (kernel::binary::Binary = "text/plain"),
                (kernel::binary::Binary = "audio/wav"),
                (kernel::binary::Binary = "audio/mpeg"),
                (kernel::binary::Binary = "audio/ogg"),
                (kernel::binary::Binary = "audio/webm")),
            headers(
                ("Content-Range" = String, description = "`bytes a-b/size`"),
                ("Content-Length" = u64, description = "The range's length"),
                ("ETag" = String, description = "`\"<sha256>\"`"))),
        (status = 304, description = "`If-None-Match` matches: the client's copy is current",
            headers(("ETag" = String, description = "`\"<sha256>\"`"))),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 416, description = "The range does not overlap the file; `Content-Range: bytes */size`",
            body = kernel::Problem, content_type = "application/problem+json"),
        (status = 503, response = problems::ServiceUnavailable),
    )
)]
#[get("/{file_id}/content")]
pub(crate) async fn download_file(
    principal: Principal,
    files: web::Data<FilesService>,
    path: web::Path<Uuid>,
    req: HttpRequest,
) -> Result<HttpResponse> {
    let file = files.get(principal.user_id, path.into_inner()).await?;
    let range_header = req.headers().get(header::RANGE).and_then(|v| v.to_str().ok());
    let none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    let etag = etag(&file);
    if range::none_match(none_match, &etag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    let range = match range::wanted(range_header, file.bytes) {
        Wanted::All => None,
        Wanted::Part(range) => Some(range),
        Wanted::Unsatisfiable => return Ok(unsatisfiable(file.bytes)),
    };
    let partial = range.is_some();
    let content = files.open(principal.user_id, file.id, range).await?;
    Ok(serve(content, partial, true))
}

/// Deletes one of the caller's files and its stored content.
#[utoipa::path(
    tag = "files",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("file_id" = Uuid, Path, description = "The file's id")),
    responses(
        (status = 204, description = "Deleted, content included"),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 503, response = problems::ServiceUnavailable),
    )
)]
#[delete("/{file_id}")]
pub(crate) async fn delete_file(
    principal: Principal,
    files: web::Data<FilesService>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    files.delete(principal.user_id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The strong `ETag` of a file: its SHA-256 in quotes.
pub fn etag(file: &File) -> String {
    format!("\"{}\"", file.sha256)
}

/// The `416` answer for a file of `size` bytes.
fn unsatisfiable(size: u64) -> HttpResponse {
    let err: kernel::Error = FileError::RangeNotSatisfiable { size }.into();
    let mut res = err.error_response();
    if let Ok(value) = header::HeaderValue::from_str(&format!("bytes */{size}")) {
        res.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    res
}

/// Streams `content` with its headers: `206` and `Content-Range` when `partial`;
/// `Content-Disposition: attachment` when `as_attachment` (else `inline`).
pub fn serve(content: Content, partial: bool, as_attachment: bool) -> HttpResponse {
    let Content { file, range, body } = content;
    let mut res = if partial {
        let mut res = HttpResponse::PartialContent();
        res.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{}", range.start, range.end - 1, file.bytes),
        ));
        res
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CONTENT_TYPE, file.content_type.clone()))
        .insert_header((header::ETAG, etag(&file)))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header(disposition(&file.filename, as_attachment))
        .body(SizedStream::new(range.end - range.start, body))
}

/// `Content-Disposition` with an ASCII `filename` and, when the name is not ASCII, the
/// exact name as `filename*` (RFC 6266).
fn disposition(filename: &str, as_attachment: bool) -> ContentDisposition {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '_' })
        .collect();
    let mut parameters = vec![DispositionParam::Filename(ascii.clone())];
    if ascii != filename {
        parameters.push(DispositionParam::FilenameExt(header::ExtendedValue {
            charset: header::Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: filename.as_bytes().to_vec(),
        }));
    }
    ContentDisposition {
        disposition: if as_attachment {
            DispositionType::Attachment
        } else {
            DispositionType::Inline
        },
        parameters,
    }
}
