//! Attachments as the model gets them: an owner's files read from the file store, images as
//! their bytes, text and PDF files as their text (bounded), audio left out (a voice turn's
//! audio reaches the model as its transcript, the message's text).

use files::FilesService;
use uuid::Uuid;

use super::ConversationService;
use crate::error::Result;

/// The most characters of one attached document the model reads; the rest is left out
/// with a note saying how much.
pub const DOCUMENT_MAX_CHARS: usize = 100_000;

impl ConversationService {
    /// The files this service reads attachments from.
    pub fn files(&self) -> &FilesService {
        &self.files
    }

    /// `attached` (files of one owner) as the model gets them, in order. A file deleted
    /// meanwhile, audio, and a document without readable text are left out.
    pub async fn model_attachments(&self, attached: &[files::File]) -> Result<Vec<llm::Attachment>> {
        let mut out = Vec::with_capacity(attached.len());
        for file in attached {
            if let Some(attachment) = self.model_attachment(file.owner_id, file).await? {
                out.push(attachment);
            }
        }
        Ok(out)
    }

    async fn model_attachment(&self, owner_id: Uuid, file: &files::File) -> Result<Option<llm::Attachment>> {
        let image = files::kinds::is_image(&file.content_type);
        if !image && !files::text::is_document(&file.content_type) {
            return Ok(None);
        }
        let cap = self.files.limits().max_bytes.max(file.bytes);
        let Some((file, bytes)) = self.files.read_bytes(owner_id, file.id, cap).await? else {
            return Ok(None);
        };
        if image {
            return Ok(Some(llm::Attachment::image(file.filename, file.content_type, &bytes)));
        }
        let text = files::text::extract(&file.content_type, bytes, DOCUMENT_MAX_CHARS).await;
        Ok(text.map(|text| llm::Attachment::Document {
            filename: file.filename,
            text,
        }))
    }
}
