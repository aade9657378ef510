//! bcrypt hashing on the blocking pool, bounded to the number of cores.

use std::sync::Arc;

use kernel::{BoxFuture, Error, PasswordHasher, Result};
use tokio::sync::{OnceCell, Semaphore};

/// bcrypt with a configurable cost. At most one hash per core runs at a time: a login
/// storm queues here instead of starving the blocking pool, and each login finishes in
/// about one hash time instead of all of them finishing together at the end.
#[derive(Clone)]
pub struct BcryptHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    /// Hash of a random password, verified against when the account does not exist.
    dummy: Arc<OnceCell<String>>,
}

impl BcryptHasher {
    /// A hasher with this bcrypt cost (4..=31).
    pub fn new(cost: u32) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self { cost, permits: Arc::new(Semaphore::new(cores)), dummy: Arc::new(OnceCell::new()) }
    }

    /// The configured cost.
    pub fn cost(&self) -> u32 {
        self.cost
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit = self.permits.acquire().await.map_err(|e| Error::Internal(e.into()))?;
        tokio::task::spawn_blocking(job).await.map_err(|e| Error::Internal(e.into()))
    }

    async fn dummy_hash(&self) -> Result<String> {
        self.dummy
            .get_or_try_init(|| async {
                let cost = self.cost;
                let password = crate::secrets::new_token();
                self.run(move || bcrypt::hash(password, cost)).await?.map_err(|e| Error::Internal(e.into()))
            })
            .await
            .cloned()
    }
}

impl PasswordHasher for BcryptHasher {
    fn hash(&self, password: String) -> BoxFuture<'_, Result<String>> {
        Box::pin(async move {
            let cost = self.cost;
            self.run(move || bcrypt::hash(password, cost)).await?.map_err(|e| Error::Internal(e.into()))
        })
    }

    fn verify(&self, password: String, hash: Option<String>) -> BoxFuture<'_, Result<bool>> {
        Box::pin(async move {
            let (hash, real) = match hash {
                Some(hash) => (hash, true),
                None => (self.dummy_hash().await?, false),
            };
            // A malformed stored hash or an over-long password simply does not verify.
            let matched = self.run(move || bcrypt::verify(password, &hash).unwrap_or(false)).await?;
            Ok(real && matched)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_do() {
        let hasher = BcryptHasher::new(4);
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$2b$04$"));
        assert!(hasher.verify("correct horse".into(), Some(hash.clone())).await.unwrap());
        assert!(!hasher.verify("wrong horse".into(), Some(hash)).await.unwrap());
        assert!(!hasher.verify("correct horse".into(), None).await.unwrap());
        assert!(!hasher.verify("x".into(), Some("not a hash".into())).await.unwrap());
    }
}
