//! [`FilesService`]: upload, list, read, download and delete a user's files; the library
//! API other crates (attachments, speech) use to read a file or store new bytes.

use std::ops::Range;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, TryStreamExt};
use kernel::page::{KeysetColumns, fetch_page};
use kernel::{Cursor, Page, PageParams};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStoreExt};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use crate::entities::file;
use crate::error::{FileError, Result};
use crate::kinds;
use crate::schemas::{File, Purpose};
use crate::store::FileStore;
use crate::upload::{self, Limits, Stored};

/// The cap of an avatar, whatever `FILE_MAX_BYTES` says (when that is larger).
pub const AVATAR_MAX_BYTES: u64 = 2 * 1024 * 1024;
/// The longest kept file name, in characters.
pub const FILENAME_MAX_CHARS: usize = 255;

/// The limits of the file service.
#[derive(Debug, Clone, Copy)]
pub struct FileLimits {
    /// `FILE_MAX_BYTES`: the cap of an attachment.
    pub max_bytes: u64,
    /// `FILE_QUOTA_BYTES`: what one user's files may take in all.
    pub quota_bytes: u64,
}

impl Default for FileLimits {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            quota_bytes: 1024 * 1024 * 1024,
        }
    }
}

impl FileLimits {
    /// The cap of a file uploaded for `purpose`.
    pub fn cap(&self, purpose: Purpose) -> u64 {
        match purpose {
            Purpose::Attachment => self.max_bytes,
            Purpose::Avatar => std::cmp::min(self.max_bytes, AVATAR_MAX_BYTES),
        }
    }
}

/// A file's content as a download: all of it or one range.
pub struct Content {
    /// The file.
    pub file: File,
    /// The bytes served (`0..file.bytes` for the whole file).
    pub range: Range<u64>,
    /// The bytes, as they come from the store.
    pub body: BoxStream<'static, Result<Bytes>>,
}

/// A file whose content is stored but which is not recorded yet (see
/// [`FilesService::receive`]); [`FilesService::commit`] or [`FilesService::discard`] it.
#[derive(Debug)]
pub struct Received {
    id: Uuid,
    owner_id: Uuid,
    filename: String,
    stored: Stored,
}

/// Users' files: rows in `files`, contents in the [`FileStore`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct FilesService {
    db: DatabaseConnection,
    store: FileStore,
    limits: FileLimits,
}

impl FilesService {
    /// The service over `db`, keeping contents in `store`.
    pub fn new(db: DatabaseConnection, store: FileStore, limits: FileLimits) -> Self {
        Self { db, store, limits }
    }

    /// The limits in effect.
    pub fn limits(&self) -> FileLimits {
        self.limits
    }

    /// The store holding the contents.
    pub fn store(&self) -> &FileStore {
        &self.store
    }

    /// Streams a new file of `owner_id` into the store, refusing as soon as it breaks a
    /// rule: over the cap of `purpose` (or of an attachment when `purpose` is not known yet),
    /// past the owner's quota, or of a type it does not accept. Nothing is recorded until
    /// [`commit`](Self::commit); on error nothing is left in the store.
    pub async fn receive<S>(
        &self,
        owner_id: Uuid,
        filename: &str,
        purpose: Option<Purpose>,
        chunks: S,
    ) -> Result<Received>
    where
        S: Stream<Item = Result<Bytes>> + Unpin,
    {
        let id = kernel::ids::new_id();
        let key = object_key(owner_id, id);
        let limits = Limits {
            cap: self.limits.cap(purpose.unwrap_or_default()),
            quota: self.limits.quota_bytes,
            used: self.used_bytes(owner_id).await?,
        };
        let stored = upload::receive(&self.store, key, purpose.unwrap_or_default(), limits, chunks).await?;
        Ok(Received {
            id,
            owner_id,
            filename: clean_filename(filename),
            stored,
        })
    }

    /// Records a received file for `purpose`, checking that purpose's rules and the quota
    /// once more; on refusal or failure its content is removed.
    pub async fn commit(&self, received: Received, purpose: Purpose) -> Result<File> {
        match self.record(&received, purpose).await {
            Ok(file) => Ok(file),
            Err(err) => {
                self.discard(received).await;
                Err(err)
            }
        }
    }

    async fn record(&self, received: &Received, purpose: Purpose) -> Result<File> {
        let stored = &received.stored;
        let cap = self.limits.cap(purpose);
        if stored.bytes > cap {
            return Err(FileError::TooLarge { limit: cap });
        }
        if !kinds::accepts(purpose, stored.content_type) {
            return Err(upload::unsupported(stored.content_type.to_owned(), purpose));
        }
        // Concurrent uploads of one user were each checked against what was stored when
        // they began; this catches most of the rest.
        let used = self.used_bytes(received.owner_id).await?;
        if used.saturating_add(stored.bytes) > self.limits.quota_bytes {
            return Err(FileError::QuotaExceeded {
                quota: self.limits.quota_bytes,
                used,
            });
        }
        let row = file::ActiveModel {
            id: Set(received.id),
            owner_id: Set(received.owner_id),
            filename: Set(received.filename.clone()),
            content_type: Set(stored.content_type.to_owned()),
            bytes: Set(i64::try_from(stored.bytes).unwrap_or(i64::MAX)),
            sha256: Set(stored.sha256.clone()),
            purpose: Set(purpose.as_str().to_owned()),
            object_key: Set(stored.key.to_string()),
            created_at: Set(kernel::clock::now()),
        };
        Ok(row.insert(&self.db).await?.into())
    }

    /// Removes the content of a received file that will not be recorded.
    pub async fn discard(&self, received: Received) {
        if let Err(err) = self.store.objects().delete(&received.stored.key).await {
            tracing::warn!(error = %err, key = %received.stored.key, "removing a refused upload failed");
        }
    }

    /// Stores `content` as a new file of `owner_id` (the same rules as an upload).
    pub async fn store_bytes(&self, owner_id: Uuid, filename: &str, content: Bytes, purpose: Purpose) -> Result<File> {
        let chunks = futures_util::stream::iter([Ok(content)]);
        let received = self.receive(owner_id, filename, Some(purpose), chunks).await?;
        self.commit(received, purpose).await
    }

    /// The owner's file with this id, or `None` (missing or someone else's).
    pub async fn get_owned(&self, owner_id: Uuid, id: Uuid) -> Result<Option<File>> {
        Ok(self.find(owner_id, id).await?.map(File::from))
    }

    /// The owner's file with this id ([`FileError::NotFound`] otherwise).
    pub async fn get(&self, owner_id: Uuid, id: Uuid) -> Result<File> {
        self.get_owned(owner_id, id).await?.ok_or(FileError::NotFound)
    }

    /// The owner's files among `ids`, in the order of `ids`; `Err(i)` is the index of the
    /// first id that is not theirs.
    pub async fn get_many_owned(&self, owner_id: Uuid, ids: &[Uuid]) -> Result<std::result::Result<Vec<File>, usize>> {
        if ids.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        let rows = file::Entity::find()
            .filter(file::Column::OwnerId.eq(owner_id))
            .filter(file::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        let mut files = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            match rows.iter().find(|row| row.id == *id) {
                Some(row) => files.push(File::from(row.clone())),
                None => return Ok(Err(i)),
            }
        }
        Ok(Ok(files))
    }

    /// Files by id, whoever owns them (for showing what a stored message references).
    pub async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<File>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = file::Entity::find()
            .filter(file::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(ids
            .iter()
            .filter_map(|id| rows.iter().find(|row| row.id == *id).cloned().map(File::from))
            .collect())
    }

    /// A page of the owner's files, newest first.
    pub async fn list(&self, owner_id: Uuid, page: &PageParams) -> Result<Page<File>> {
        let select = file::Entity::find().filter(file::Column::OwnerId.eq(owner_id));
        let columns = KeysetColumns {
            created_at: file::Column::CreatedAt,
            id: file::Column::Id,
        };
        let page = fetch_page(&self.db, select, columns, page, |m| Cursor {
            created_at: m.created_at,
            id: m.id,
        })
        .await?;
        Ok(page.map(File::from))
    }

    /// The content of the owner's file, all of it or `range` (end exclusive, already
    /// checked against the size by the caller with [`File::bytes`]).
    pub async fn open(&self, owner_id: Uuid, id: Uuid, range: Option<Range<u64>>) -> Result<Content> {
        let row = self.find(owner_id, id).await?.ok_or(FileError::NotFound)?;
        self.open_row(row, range).await
    }

    /// The content of the file with this id, whoever owns it (avatars are public to
    /// signed-in users).
    pub async fn open_any(&self, id: Uuid) -> Result<Content> {
        let row = file::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(FileError::NotFound)?;
        self.open_row(row, None).await
    }

    async fn open_row(&self, row: file::Model, range: Option<Range<u64>>) -> Result<Content> {
        let file = File::from(row.clone());
        let range = range.unwrap_or(0..file.bytes);
        if range.start >= range.end || range.end > file.bytes {
            return Err(FileError::RangeNotSatisfiable { size: file.bytes });
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(range.clone())),
            ..GetOptions::default()
        };
        let got = self
            .store
            .objects()
            .get_opts(&Path::from(row.object_key), options)
            .await?;
        let body = got.into_stream().map_err(FileError::from).boxed();
        Ok(Content { file, range, body })
    }

    /// The whole content of the owner's file, at most `max_bytes` of it: `None` when they
    /// have no such file; [`FileError::TooLarge`] when it is larger.
    pub async fn read_bytes(&self, owner_id: Uuid, id: Uuid, max_bytes: u64) -> Result<Option<(File, Bytes)>> {
        let Some(row) = self.find(owner_id, id).await? else {
            return Ok(None);
        };
        let size = u64::try_from(row.bytes).unwrap_or(0);
        if size > max_bytes {
            return Err(FileError::TooLarge { limit: max_bytes });
        }
        let content = self.open_row(row, None).await?;
        let body: Vec<Bytes> = content.body.try_collect().await?;
        Ok(Some((content.file, body.concat().into())))
    }

    /// Deletes the owner's file: its content, then its row.
    pub async fn delete(&self, owner_id: Uuid, id: Uuid) -> Result<()> {
        let row = self.find(owner_id, id).await?.ok_or(FileError::NotFound)?;
        match self.store.objects().delete(&Path::from(row.object_key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(err) => return Err(err.into()),
        }
        file::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }

    /// Bytes of all the owner's files.
    pub async fn used_bytes(&self, owner_id: Uuid) -> Result<u64> {
        let total: Option<Option<i64>> = file::Entity::find()
            .select_only()
            .expr(Expr::col(file::Column::Bytes).sum().cast_as("bigint"))
            .filter(file::Column::OwnerId.eq(owner_id))
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(total.flatten().map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    async fn find(&self, owner_id: Uuid, id: Uuid) -> Result<Option<file::Model>> {
        Ok(file::Entity::find_by_id(id)
            .filter(file::Column::OwnerId.eq(owner_id))
            .one(&self.db)
            .await?)
    }
}

/// Where a file's content is kept: one object per file, under its owner.
fn object_key(owner_id: Uuid, id: Uuid) -> Path {
    Path::from(format!("{owner_id}/{id}"))
}

/// The client's file name without any directory, control characters or quotes, at most
/// [`FILENAME_MAX_CHARS`] characters; `file` when nothing is left.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(FILENAME_MAX_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_directories_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\x\\a.png"), "a.png");
        assert_eq!(clean_filename("a\0b\"c\n.txt"), "abc.txt");
        assert_eq!(clean_filename(""), "file");
        assert_eq!(clean_filename(".."), "file");
        assert_eq!(clean_filename(&"é".repeat(300)).chars().count(), 255);
    }
}
