//! The spoken copy of a reply (`speak: true`): the reply's text, at most
//! [`speech::schemas::TEXT_MAX_CHARS`] characters of it, spoken by the default speech
//! provider and stored as an audio file of the run's owner.
//!
//! A reply whose speech fails (the provider is down, the owner's quota is full) is still
//! stored, without the audio: losing a good answer to a missing voice would be worse. The
//! failure is logged with the run's id.

use futures_util::TryStreamExt;

use super::Inner;
use crate::entities::execution;

/// The audio file of `output`, as the reply's attachments: one file, or none when there is
/// nothing to speak or speaking failed.
pub(super) async fn spoken_reply(inner: &Inner, model: &execution::Model, output: &str) -> Vec<files::File> {
    let Some(speech) = inner.speech.get() else {
        return Vec::new();
    };
    let text: String = output.trim().chars().take(speech::schemas::TEXT_MAX_CHARS).collect();
    if text.is_empty() {
        return Vec::new();
    }
    let request = speech::SpeechRequest {
        text,
        voice: None,
        format: None,
        provider: None,
    };
    let files = inner.conversations.files();
    let stored = async {
        let audio = speech.speak(&request).await.map_err(kernel::Error::from)?;
        let extension = audio.format.extension();
        let chunks: Vec<bytes::Bytes> = audio.body.try_collect().await.map_err(kernel::Error::from)?;
        let filename = format!("reply-{}.{extension}", model.id);
        files
            .store_bytes(
                model.owner_id,
                &filename,
                chunks.concat().into(),
                files::Purpose::Attachment,
            )
            .await
            .map_err(kernel::Error::from)
    };
    match stored.await {
        Ok(file) => vec![file],
        Err(err) => {
            tracing::warn!(execution_id = %model.id, error = %err, "the reply is stored without its spoken copy");
            Vec::new()
        }
    }
}
