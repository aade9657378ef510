//! `POST /v1/chat/completions`: the answer whole (`chat.completion`) or streamed
//! (`chat.completion.chunk` data lines, then `data: [DONE]`).

use actix_web::web::{self, Bytes, Json};
use actix_web::{HttpRequest, HttpResponse, post};
use kernel::{Principal, Result, Valid};
use uuid::Uuid;

use super::docs;
use super::stream::{self, EXECUTION_ID, StreamContext, data_line, error_object};
use crate::OpenAiService;
use crate::schemas::chat::{ChatCompletionCreate, FunctionCall, FunctionType};
use crate::schemas::completion::{
    AssistantRole, ChatCompletion, ChatCompletionChunk, ChunkChoice, ChunkObject, CompletionUsage, Delta, FinishReason,
    ToolCallDelta,
};
use crate::service::answer::{Step, arguments_text};
use crate::service::chat::StartedChat;

/// How the streamed answer is described in the OpenAPI document.
const STREAM_DESCRIPTION: &str = "With `\"stream\": true`: Server-Sent Events, one `data: <chat.completion.chunk>` line \
per piece (the first carries `delta.role`, text comes as `delta.content`, the client's tool calls as `delta.tool_calls`, \
the last choice chunk has `finish_reason`), with `stream_options.include_usage` a last chunk with `usage` and no \
choices, then `data: [DONE]`. A failure ends the stream with `data: {\"error\": {message, type, param, code}}`. \
Header `X-Execution-Id` names the run when the answer is one (`store: true`, or an agent with server-side tools).";

/// Answers a chat completion with one of the caller's agents: the request's `messages` are
/// the history after the agent's system prompt; the agent's server-side tools run inside,
/// and calls of the request's `tools` (or of the agent's client tools) come back as
/// `tool_calls` with `finish_reason: "tool_calls"`.
#[utoipa::path(
    tag = "openai",
    operation_id = "openai_create_chat_completion",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body = ChatCompletionCreate,
    responses(
        (status = 200, description = STREAM_DESCRIPTION,
            headers(("X-Execution-Id" = Uuid, description = "The run that answered, when the answer is a run (`store: true`, or an agent with server-side tools)")),
            content((ChatCompletion = "application/json"), (ChatCompletionChunk = "text/event-stream"))),
        (status = 401, response = docs::OpenAiUnauthorized),
        (status = 404, response = docs::OpenAiNotFound),
        (status = 409, response = docs::OpenAiConflict),
        (status = 413, response = docs::OpenAiPayloadTooLarge),
        (status = 415, response = docs::OpenAiUnsupportedMediaType),
        (status = 422, response = docs::OpenAiUnprocessable),
        (status = 502, response = docs::OpenAiBadGateway),
        (status = 503, response = docs::OpenAiServiceUnavailable),
        (status = 504, response = docs::OpenAiGatewayTimeout),
    )
)]
#[post("/chat/completions")]
pub(super) async fn create_chat_completion(
    req: HttpRequest,
    principal: Principal,
    service: web::Data<OpenAiService>,
    body: Valid<Json<ChatCompletionCreate>>,
) -> Result<HttpResponse> {
    let owner = principal.user_id;
    let chat = service.start_chat(owner, body.into_inner().into_inner()).await?;
    let execution_id = chat.execution_id();
    if chat.plan.stream {
        let body = chunks(StreamContext::of(&req), service.get_ref().clone(), owner, chat);
        return Ok(stream::respond(execution_id, body));
    }
    let completion = service.chat_completion(owner, chat).await?;
    let mut response = HttpResponse::Ok();
    if let Some(id) = execution_id {
        response.insert_header((EXECUTION_ID, id.to_string()));
    }
    Ok(response.json(completion))
}

/// The chunks of one streamed answer.
struct Chunks {
    id: String,
    created: i64,
    model: String,
    include_usage: bool,
}

impl Chunks {
    fn chunk(&self, delta: Delta, finish_reason: Option<FinishReason>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: ChunkObject::ChatCompletionChunk,
            created: self.created,
            model: self.model.clone(),
            system_fingerprint: None,
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                logprobs: None,
                finish_reason,
            }],
            usage: self.include_usage.then_some(None),
        }
    }

    fn usage(&self, usage: CompletionUsage) -> ChatCompletionChunk {
        ChatCompletionChunk {
            choices: Vec::new(),
            usage: Some(Some(usage)),
            ..self.chunk(Delta::default(), None)
        }
    }
}

/// The stream of `chat`'s answer as chunks (a run's replayed from its event log, then live).
fn chunks(
    mut context: StreamContext,
    service: OpenAiService,
    owner: Uuid,
    mut chat: StartedChat,
) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    let writer = Chunks {
        id: chat.id(),
        created: chat.created(),
        model: chat.model.clone(),
        include_usage: chat.plan.include_usage,
    };
    let stopping = if chat.execution_id().is_some() {
        stream::stopping()
    } else {
        stream::stopping_direct()
    };
    async_stream::stream! {
        let first = Delta { role: Some(AssistantRole::Assistant), content: Some(String::new()), tool_calls: None };
        yield Ok(data_line(&writer.chunk(first, None)));
        let finish = loop {
            let step = tokio::select! {
                biased;
                step = chat.next() => step,
                () = context.shutdown.streams_end() => {
                    let error = error_object(&stopping, context.request.as_ref());
                    yield Ok(data_line(&serde_json::json!({"error": error})));
                    return;
                }
                _ = context.keepalive.tick() => {
                    yield Ok(stream::keepalive());
                    continue;
                }
            };
            context.keepalive.reset();
            match step {
                Step::Text(text) => {
                    let delta = Delta { content: Some(text), ..Delta::default() };
                    yield Ok(data_line(&writer.chunk(delta, None)));
                }
                Step::Calls(calls) => {
                    let tool_calls = calls
                        .into_iter()
                        .enumerate()
                        .map(|(index, call)| ToolCallDelta {
                            index: u32::try_from(index).unwrap_or(u32::MAX),
                            id: call.id,
                            kind: FunctionType::Function,
                            function: FunctionCall { name: call.name, arguments: arguments_text(&call.arguments) },
                        })
                        .collect();
                    let delta = Delta { tool_calls: Some(tool_calls), ..Delta::default() };
                    yield Ok(data_line(&writer.chunk(delta, None)));
                    break FinishReason::ToolCalls;
                }
                Step::Done => break FinishReason::Stop,
                Step::Failed(err) => {
                    let error = error_object(&err, context.request.as_ref());
                    yield Ok(data_line(&serde_json::json!({"error": error})));
                    return;
                }
                Step::Skip => {}
            }
        };
        yield Ok(data_line(&writer.chunk(Delta::default(), Some(finish))));
        if writer.include_usage {
            match chat.usage(service.executions(), owner).await {
                Ok(usage) => yield Ok(data_line(&writer.usage(usage))),
                Err(err) => {
                    let error = error_object(&err.into(), context.request.as_ref());
                    yield Ok(data_line(&serde_json::json!({"error": error})));
                    return;
                }
            }
        }
        yield Ok(Bytes::from_static(b"data: [DONE]\n\n"));
    }
}
