//! The `/audio` routes: thin handlers that extract, call [`SpeechService`], and answer.

mod multipart;

use actix_web::http::header;
use actix_web::web::{self, Json};
use actix_web::{HttpRequest, HttpResponse, post};
use futures_util::TryStreamExt;
use kernel::binary::Binary;
use kernel::openapi as problems;
use kernel::{Principal, Result, Valid};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::audio::AudioUpload;
use crate::schemas::TranscriptionForm;
use crate::{ProviderName, SpeechError, SpeechRequest, SpeechService, Transcription, TranscriptionOfFile};

/// Registers the `/audio` routes (mount under `kernel::routes::API_PREFIX`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(speech).service(transcriptions);
}

/// Speaks `text`: the audio streams back with the format's `Content-Type`. With the offline
/// `echo` provider it is a WAV of tones that encode the text (a stand-in, see
/// `docs/speech.md`), which `echo` transcription turns back into the same text.
#[utoipa::path(
    tag = "audio",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body = SpeechRequest,
    responses(
        (status = 200, description = "The audio, streamed, in the asked format",
            content((Binary = "audio/mpeg"), (Binary = "audio/wav"), (Binary = "audio/ogg; codecs=opus"))),
        (status = 401, response = problems::Unauthorized),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
        (status = 502, response = problems::BadGateway),
        (status = 504, response = problems::GatewayTimeout),
    )
)]
#[post("/audio/speech")]
pub(crate) async fn speech(
    _principal: Principal,
    service: web::Data<SpeechService>,
    body: Valid<Json<SpeechRequest>>,
) -> Result<HttpResponse> {
    let request = body.into_inner().into_inner();
    let audio = service.speak(&request).await?;
    let mut response = HttpResponse::Ok();
    response.content_type(audio.format.content_type()).insert_header((
        header::CONTENT_DISPOSITION,
        format!("inline; filename=\"speech.{}\"", audio.format.extension()),
    ));
    if let Some(length) = audio.length {
        response.no_chunking(length);
    }
    let body = audio.body.map_err(|err: SpeechError| {
        tracing::warn!(error = %err, "speech stopped while streaming");
        actix_web::Error::from(kernel::Error::from(err))
    });
    Ok(response.streaming(body))
}

/// Transcribes audio sent as multipart `file` (WAV, MP3, Ogg, WebM, FLAC or MP4/M4A, its
/// type read from its bytes) with optional `language` and `provider` parts, or one of the
/// caller's uploaded files named by JSON `{file_id, language?, provider?}`.
#[utoipa::path(
    tag = "audio",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body(content((TranscriptionForm = "multipart/form-data"), (TranscriptionOfFile = "application/json"))),
    responses(
        (status = 200, description = "What was said", body = Transcription),
        (status = 401, response = problems::Unauthorized),
        (status = 408, description = "The body did not arrive within `BODY_READ_TIMEOUT_SECS` (problem+json)", body = kernel::Problem, content_type = "application/problem+json"),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
        (status = 502, response = problems::BadGateway),
        (status = 504, response = problems::GatewayTimeout),
    )
)]
#[post("/audio/transcriptions")]
pub(crate) async fn transcriptions(
    principal: Principal,
    service: web::Data<SpeechService>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> Result<Json<Transcription>> {
    if kernel::extract::is_json(&req) {
        let body = kernel::extract::read_body(&req, &mut payload).await?;
        let request: TranscriptionOfFile = kernel::extract::parse_json(&body)?;
        kernel::extract::validate(&request)?;
        let transcription = service
            .transcribe_file(
                principal.user_id,
                request.file_id,
                request.language.as_deref(),
                request.provider,
            )
            .await?;
        return Ok(Json(transcription));
    }
    let parts = multipart::read(&req, payload, service.max_audio_bytes()).await?;
    let provider = parts.provider.as_deref().map(parse_provider).transpose()?;
    let (bytes, filename) = parts
        .file
        .ok_or_else(|| kernel::Error::invalid("file", "is required: send the audio as part `file`"))?;
    let audio = AudioUpload::new("file", bytes, filename.as_deref())?;
    let transcription = service.transcribe(&audio, parts.language.as_deref(), provider).await?;
    Ok(Json(transcription))
}

/// A provider named in a form part.
fn parse_provider(name: &str) -> Result<ProviderName, kernel::Error> {
    ProviderName::parse(name).ok_or_else(|| {
        kernel::Error::invalid(
            "provider",
            format!("unknown variant `{name}`, expected one of `echo`, `openai`, `elevenlabs`"),
        )
    })
}
