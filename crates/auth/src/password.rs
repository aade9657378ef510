//! bcrypt hashing on a dedicated, low-priority blocking pool.
//!
//! bcrypt is deliberately slow CPU work. It runs on its own threads, one per core, never on
//! the async workers; a login storm queues here (each login then finishes in about one hash
//! time, instead of all of them together at the end). The threads run at the idle scheduling
//! priority, so they use every otherwise idle cycle but yield at once to the request
//! workers and the database: a burst of logins does not slow down the rest of the API.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use kernel::{BoxFuture, Error, PasswordHasher, Result};
use tokio::sync::{OnceCell, oneshot};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// bcrypt with a configurable cost.
#[derive(Clone)]
pub struct BcryptHasher {
    cost: u32,
    jobs: mpsc::Sender<Job>,
    /// Hash of a random password, verified against when the account does not exist.
    dummy: Arc<OnceCell<String>>,
}

/// Nice value of the hashing threads where `SCHED_IDLE` is refused (0 is normal, 19 the lowest).
const HASHING_NICENESS: i32 = 10;

impl BcryptHasher {
    /// A hasher with this bcrypt cost (4..=31) and one hashing thread per core.
    pub fn new(cost: u32) -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new().name(format!("bcrypt-{n}")).spawn(move || {
                lower_priority();
                loop {
                    // The lock is held only while waiting for the next job, not while hashing.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // every hasher is gone
                    }
                }
            });
            if let Err(err) = spawned {
                tracing::error!(error = %err, "could not start a bcrypt thread");
            }
        }
        Self {
            cost,
            jobs,
            dummy: Arc::new(OnceCell::new()),
        }
    }

    /// The configured cost.
    pub fn cost(&self) -> u32 {
        self.cost
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(job());
        });
        self.jobs
            .send(job)
            .map_err(|_| Error::Internal(anyhow::anyhow!("the bcrypt pool is gone")))?;
        result
            .await
            .map_err(|_| Error::Internal(anyhow::anyhow!("a bcrypt job was dropped")))
    }

    async fn dummy_hash(&self) -> Result<String> {
        self.dummy
            .get_or_try_init(|| async {
                let cost = self.cost;
                let password = crate::secrets::new_token();
                self.run(move || bcrypt::hash(password, cost))
                    .await?
                    .map_err(|e| Error::Internal(e.into()))
            })
            .await
            .cloned()
    }
}

/// Lowers the calling thread's scheduling priority to `SCHED_IDLE` (Linux): it then runs
/// only when no normal thread of the machine wants the CPU, and any waking request worker
/// or database backend preempts it at once. Where that is refused, nice 10 is the fallback.
/// Failure only costs latency fairness, so it is logged.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; sched_setscheduler and setpriority read only
        // their arguments (the param struct lives on this stack frame for the call).
        #[allow(
            unsafe_code,
            reason = "the workspace's one FFI call: libc has no safe wrapper for it"
        )]
        unsafe {
            let tid = libc::gettid();
            let param = libc::sched_param { sched_priority: 0 };
            if libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param) != 0
                && libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, HASHING_NICENESS) != 0
            {
                tracing::debug!("could not lower the priority of a bcrypt thread");
            }
        }
    }
}

impl PasswordHasher for BcryptHasher {
    fn hash(&self, password: String) -> BoxFuture<'_, Result<String>> {
        Box::pin(async move {
            let cost = self.cost;
            self.run(move || bcrypt::hash(password, cost))
                .await?
                .map_err(|e| Error::Internal(e.into()))
        })
    }

    fn verify(&self, password: String, hash: Option<String>) -> BoxFuture<'_, Result<bool>> {
        Box::pin(async move {
            let (hash, real) = match hash {
                Some(hash) => (hash, true),
                None => (self.dummy_hash().await?, false),
            };
            // A malformed stored hash or an over-long password simply does not verify.
            let matched = self
                .run(move || bcrypt::verify(password, &hash).unwrap_or(false))
                .await?;
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

    #[tokio::test]
    async fn concurrent_hashes_all_complete() {
        let hasher = BcryptHasher::new(4);
        let jobs: Vec<_> = (0..16).map(|i| hasher.hash(format!("password-{i}"))).collect();
        for (i, hash) in futures_util::future::join_all(jobs).await.into_iter().enumerate() {
            let hash = hash.unwrap();
            assert!(hasher.verify(format!("password-{i}"), Some(hash)).await.unwrap());
        }
    }
}
