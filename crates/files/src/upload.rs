//! Receiving a file's content as a stream: written part by part to the store while it is
//! hashed, counted against its cap and told apart by its magic bytes. Nothing holds the
//! whole file; a refusal aborts the upload, so no object is left.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};

use crate::error::{FileError, Result};
use crate::kinds::{self, SNIFF_LEN, Sniffed, TextCheck};
use crate::schemas::Purpose;
use crate::store::FileStore;

/// Parts an upload may have in flight at once (each up to `FileStore::part_bytes`).
const PARTS_IN_FLIGHT: usize = 2;

/// The limits one upload streams under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The purpose's cap.
    pub cap: u64,
    /// The owner's quota and what they already use.
    pub quota: u64,
    /// Bytes of the owner's files so far.
    pub used: u64,
}

impl Limits {
    /// The refusal for a file that reached `bytes`, if it is one.
    fn check(&self, bytes: u64) -> Result<()> {
        if bytes > self.cap {
            return Err(FileError::TooLarge { limit: self.cap });
        }
        if self.used.saturating_add(bytes) > self.quota {
            return Err(FileError::QuotaExceeded {
                quota: self.quota,
                used: self.used,
            });
        }
        Ok(())
    }
}

/// A file whose content is now in the store, not yet recorded.
#[derive(Debug)]
pub(crate) struct Stored {
    /// Where it is in the store.
    pub key: Path,
    /// The detected media type.
    pub content_type: &'static str,
    /// Its size.
    pub bytes: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// The state of one upload while its content arrives.
struct Receiving {
    purpose: Purpose,
    limits: Limits,
    hasher: Sha256,
    bytes: u64,
    head: Vec<u8>,
    sniffed: Option<Sniffed>,
    text: TextCheck,
}

impl Receiving {
    /// Takes in one chunk: counts, hashes and (early on) sniffs it.
    fn take(&mut self, chunk: &[u8]) -> Result<()> {
        self.bytes += chunk.len() as u64;
        self.limits.check(self.bytes)?;
        self.hasher.update(chunk);
        if self.sniffed.is_none() {
            let wanted = SNIFF_LEN - self.head.len();
            self.head.extend_from_slice(&chunk[..chunk.len().min(wanted)]);
            if self.head.len() == SNIFF_LEN {
                self.decide()?;
            }
        }
        if matches!(self.sniffed, None | Some(Sniffed::MaybeText)) {
            self.text.feed(chunk);
        }
        Ok(())
    }

    /// Decides the type from the head: refuses at once what the purpose cannot take.
    fn decide(&mut self) -> Result<()> {
        let sniffed = kinds::sniff(&self.head);
        let refused = match &sniffed {
            Sniffed::Binary(t) if !kinds::accepts(self.purpose, t) => Some((*t).to_owned()),
            Sniffed::Binary(_) => None,
            Sniffed::MaybeText if !kinds::accepts(self.purpose, kinds::TEXT_PLAIN) => Some("text or unknown".into()),
            Sniffed::MaybeText => None,
            Sniffed::Other(t) => Some(t.clone()),
        };
        if let Some(detected) = refused {
            return Err(unsupported(detected, self.purpose));
        }
        self.sniffed = Some(sniffed);
        Ok(())
    }

    /// The content type once every byte is in.
    fn finish(&mut self) -> Result<&'static str> {
        if self.bytes == 0 {
            return Err(FileError::Empty);
        }
        if self.sniffed.is_none() {
            self.decide()?;
        }
        match self.sniffed {
            Some(Sniffed::Binary(t)) => Ok(t),
            Some(Sniffed::MaybeText) if self.text.is_text() => Ok(kinds::TEXT_PLAIN),
            _ => Err(unsupported("binary data of an unknown type".into(), self.purpose)),
        }
    }
}

/// The `415` for `detected` under `purpose`.
pub(crate) fn unsupported(detected: String, purpose: Purpose) -> FileError {
    FileError::Unsupported {
        detected,
        purpose: purpose.as_str(),
        accepted: kinds::accepted(purpose).join(", "),
    }
}

/// Streams `chunks` into the store under `key`, under `purpose`'s types and `limits`.
/// On any refusal or failure the upload is aborted: no object remains.
pub(crate) async fn receive<S>(
    store: &FileStore,
    key: Path,
    purpose: Purpose,
    limits: Limits,
    chunks: S,
) -> Result<Stored>
where
    S: Stream<Item = Result<Bytes>> + Unpin,
{
    let upload = store.objects().put_multipart(&key).await?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, store.part_bytes());
    let mut state = Receiving {
        purpose,
        limits,
        hasher: Sha256::new(),
        bytes: 0,
        head: Vec::with_capacity(SNIFF_LEN),
        sniffed: None,
        text: TextCheck::default(),
    };
    match pump(&mut writer, &mut state, chunks).await {
        Ok(content_type) => {
            writer.finish().await?;
            Ok(Stored {
                key,
                content_type,
                bytes: state.bytes,
                sha256: format!("{:x}", state.hasher.finalize()),
            })
        }
        Err(err) => {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(error = %abort, key = %key, "aborting a refused upload failed");
            }
            Err(err)
        }
    }
}

async fn pump<S>(writer: &mut WriteMultipart, state: &mut Receiving, mut chunks: S) -> Result<&'static str>
where
    S: Stream<Item = Result<Bytes>> + Unpin,
{
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        state.take(&chunk)?;
        // Bounded memory: at most PARTS_IN_FLIGHT parts are being sent while one fills.
        writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        writer.put(chunk);
    }
    state.finish()
}
