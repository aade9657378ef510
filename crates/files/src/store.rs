//! [`FileStore`]: where file contents live, through `object_store`: a local directory
//! (`file:///abs/path` or a plain path, default `./data/files`) or an S3-compatible bucket
//! (`s3://bucket[/prefix]`, credentials and endpoint from the usual `AWS_*` variables).

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;

/// S3 refuses multipart parts under 5 MiB (except the last).
const S3_PART_BYTES: usize = 5 * 1024 * 1024;
/// On local disk a part is only a write to the staging file: keep them small, so memory per
/// upload stays small (with `PARTS_IN_FLIGHT` sent while one fills, an upload holds about
/// three parts, ~192 KiB). The server's memory under 32 concurrent uploads did not change
/// measurably from 256 KiB parts to these (docs/benchmarks.md, "Streamed files"): actix-http's
/// read-ahead per connection holds more.
const LOCAL_PART_BYTES: usize = 64 * 1024;

/// A `FILE_STORE_URL` that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreConfigError(String);

/// The object store holding file contents, and how large its upload parts are. Cheap to clone.
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<dyn ObjectStore>,
    part_bytes: usize,
    location: String,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore").field("location", &self.location).finish()
    }
}

impl FileStore {
    /// The store `url` names. For `s3://`, settings come from the `AWS_*` environment
    /// variables, then from `s3_options` (`("aws_endpoint", "http://…")`, …), which win.
    pub fn open(url: &str, s3_options: &[(String, String)]) -> Result<Self, StoreConfigError> {
        if let Some(rest) = url.strip_prefix("s3://") {
            return Self::s3(rest, s3_options);
        }
        let path = match url.strip_prefix("file://") {
            Some(path) if path.starts_with('/') => path,
            Some(_) => {
                return Err(StoreConfigError(format!(
                    "`{url}`: a file:// URL needs an absolute path (file:///var/lib/agentry/files)"
                )));
            }
            None if url.contains("://") => {
                return Err(StoreConfigError(format!(
                    "`{url}`: use file:///absolute/path, s3://bucket or a plain directory path"
                )));
            }
            None => url,
        };
        std::fs::create_dir_all(path).map_err(|e| StoreConfigError(format!("cannot create `{path}`: {e}")))?;
        let local = LocalFileSystem::new_with_prefix(path)
            .map_err(|e| StoreConfigError(format!("`{path}`: {e}")))?
            .with_automatic_cleanup(true);
        Ok(Self {
            inner: Arc::new(local),
            part_bytes: LOCAL_PART_BYTES,
            location: format!("local directory {path}"),
        })
    }

    /// A store in memory, for tests and throwaway servers: its contents go with the process.
    pub fn memory() -> Self {
        Self {
            inner: Arc::new(object_store::memory::InMemory::new()),
            part_bytes: LOCAL_PART_BYTES,
            location: "memory".to_owned(),
        }
    }

    fn s3(rest: &str, options: &[(String, String)]) -> Result<Self, StoreConfigError> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(StoreConfigError("s3:// needs a bucket name (s3://my-bucket)".into()));
        }
        // Our reqwest is built without a TLS provider of its own: use ring, like the rest.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (key, value) in options {
            let key: AmazonS3ConfigKey = key
                .parse()
                .map_err(|e| StoreConfigError(format!("S3 option `{key}`: {e}")))?;
            builder = builder.with_config(key, value);
        }
        let s3 = builder
            .build()
            .map_err(|e| StoreConfigError(format!("s3://{rest}: {e}")))?;
        let inner: Arc<dyn ObjectStore> = match prefix.trim_matches('/') {
            "" => Arc::new(s3),
            prefix => Arc::new(PrefixStore::new(s3, prefix)),
        };
        Ok(Self {
            inner,
            part_bytes: S3_PART_BYTES,
            location: format!("s3://{rest}"),
        })
    }

    /// The object store itself.
    pub fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }

    /// How many bytes an upload buffers before it sends a part.
    pub fn part_bytes(&self) -> usize {
        self.part_bytes
    }

    /// Where the contents are, for logs (no credentials).
    pub fn location(&self) -> &str {
        &self.location
    }
}
