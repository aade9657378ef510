//! A user's turn: the text (or a voice note's transcript), the files attached to it, and
//! whether the reply is spoken. [`ExecutionService::check_turn`] settles all of it before
//! anything is stored, so a refused turn leaves no message, no run and no conversation.

use conversations::schemas::{ChatMessageCreate, MessageCreate};
use kernel::FieldError;
use uuid::Uuid;

use crate::ExecutionService;
use crate::error::{ExecutionError, Result};

/// What a user sends to a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserTurn {
    /// The text; required unless `transcribe`.
    pub content: Option<String>,
    /// Ids of the user's files to attach, in order.
    pub attachments: Vec<Uuid>,
    /// The first audio attachment's transcript is the text.
    pub transcribe: bool,
    /// The reply gets a spoken copy (an audio file among its attachments).
    pub speak: bool,
}

impl UserTurn {
    /// A plain text turn.
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            content: Some(content.into()),
            ..Self::default()
        }
    }
}

impl From<&str> for UserTurn {
    fn from(content: &str) -> Self {
        Self::text(content)
    }
}

impl From<String> for UserTurn {
    fn from(content: String) -> Self {
        Self::text(content)
    }
}

impl From<MessageCreate> for UserTurn {
    fn from(body: MessageCreate) -> Self {
        Self {
            content: body.content,
            attachments: body.attachments,
            transcribe: body.transcribe,
            speak: body.speak,
        }
    }
}

impl From<&ChatMessageCreate> for UserTurn {
    fn from(body: &ChatMessageCreate) -> Self {
        Self {
            content: body.content.clone(),
            attachments: body.attachments.clone(),
            transcribe: body.transcribe,
            speak: body.speak,
        }
    }
}

/// A turn whose rules hold: its text and its files (the owner's).
#[derive(Debug, Clone)]
pub(crate) struct CheckedTurn {
    pub(crate) content: String,
    pub(crate) attachments: Vec<files::File>,
    pub(crate) speak: bool,
}

impl CheckedTurn {
    /// The stored form of the attachments: their ids, a JSON array, or null for none.
    pub(crate) fn stored_attachments(&self) -> Option<serde_json::Value> {
        stored_ids(&self.attachments)
    }
}

/// The stored form of a run's attachments: the files' ids, a JSON array, or null for none.
pub(crate) fn stored_ids(files: &[files::File]) -> Option<serde_json::Value> {
    (!files.is_empty()).then(|| files.iter().map(|file| file.id.to_string()).collect())
}

impl ExecutionService {
    /// The turn, checked: its attachments are the owner's files (else `422` naming
    /// `attachments[i]`); with `transcribe`, `content` is absent and the first audio
    /// attachment's transcript takes its place (a provider failure is a `502`/`504`);
    /// without it, `content` is present.
    pub(crate) async fn check_turn(&self, owner_id: Uuid, turn: UserTurn) -> Result<CheckedTurn> {
        let attachments = self.owned_files(owner_id, &turn.attachments).await?;
        if turn.speak && self.runner.speech().is_none() {
            return Err(invalid("speak", "speech is not available on this server"));
        }
        let content = match (turn.transcribe, turn.content) {
            (false, Some(content)) => content,
            (false, None) => return Err(invalid("content", "required (unless `transcribe` is true)")),
            (true, Some(_)) => {
                return Err(invalid(
                    "content",
                    "must be absent when `transcribe` is true: the transcript is the message",
                ));
            }
            (true, None) => self.transcript(owner_id, &attachments).await?,
        };
        Ok(CheckedTurn {
            content,
            attachments,
            speak: turn.speak,
        })
    }

    /// The owner's files `ids`, in order: `422` naming `attachments[i]` for the first that
    /// is not theirs, or when there are more than the rules allow.
    pub(crate) async fn owned_files(&self, owner_id: Uuid, ids: &[Uuid]) -> Result<Vec<files::File>> {
        let max = conversations::schemas::rules::ATTACHMENTS_MAX;
        if ids.len() > max {
            return Err(invalid("attachments", format!("at most {max} files")));
        }
        let files = self.conversations.files();
        match files.get_many_owned(owner_id, ids).await.map_err(kernel::Error::from)? {
            Ok(found) => Ok(found),
            Err(i) => Err(invalid(
                format!("attachments[{i}]"),
                format!("`{}` is not one of your files", ids[i]),
            )),
        }
    }

    /// The transcript of the first audio file of `attachments`.
    async fn transcript(&self, owner_id: Uuid, attachments: &[files::File]) -> Result<String> {
        let Some((i, audio)) = attachments
            .iter()
            .enumerate()
            .find(|(_, file)| files::kinds::is_audio(&file.content_type))
        else {
            return Err(invalid(
                "attachments",
                "`transcribe` needs an audio file among the attachments",
            ));
        };
        let Some(speech) = self.runner.speech() else {
            return Err(invalid("transcribe", "speech is not available on this server"));
        };
        let field = format!("attachments[{i}]");
        let heard = async {
            let upload = speech.stored_audio(owner_id, audio.id, &field).await?;
            speech.transcribe(&upload, None, None).await
        };
        let transcription = heard.await.map_err(|err| match err {
            // The transcriber names the audio `file`; here it is the attachment.
            speech::SpeechError::Invalid(errors) => ExecutionError::Invalid(
                errors
                    .into_iter()
                    .map(|error| FieldError::new(field.clone(), format!("`{}`: {}", audio.id, error.message)))
                    .collect(),
            ),
            other => kernel::Error::from(other).into(),
        })?;
        let text = transcription.text.trim();
        let max = conversations::schemas::rules::CONTENT_MAX;
        if text.is_empty() {
            return Err(invalid(field, format!("no speech was recognised in `{}`", audio.id)));
        }
        if text.chars().count() > max {
            return Err(invalid(
                field,
                format!("the transcript of `{}` is longer than {max} characters", audio.id),
            ));
        }
        Ok(text.to_owned())
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ExecutionError {
    ExecutionError::Invalid(vec![FieldError::new(field, message)])
}
