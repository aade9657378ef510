//! Outgoing mail: the [`Mailer`] port, SMTP, a logging default, and an in-memory one for tests.

use std::sync::Mutex;

use kernel::{BoxFuture, Error, Result};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Sends mail.
pub trait Mailer: Send + Sync + 'static {
    /// Delivers one message.
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<()>>;
}

/// Writes messages to the log instead of sending them (the default without `SMTP_URL`).
///
/// Bodies carry reset links, which are secrets: they are logged only when `reveal_body`
/// is set (development), so a local user can follow the link.
pub struct LogMailer {
    reveal_body: bool,
}

impl LogMailer {
    /// A log mailer; `reveal_body` logs message bodies too.
    pub fn new(reveal_body: bool) -> Self {
        Self { reveal_body }
    }
}

impl Mailer for LogMailer {
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<()>> {
        if self.reveal_body {
            tracing::info!(to = %mail.to, subject = %mail.subject, body = %mail.body, "mail (not sent: SMTP_URL is unset)");
        } else {
            tracing::info!(to = %mail.to, subject = %mail.subject, "mail (not sent: SMTP_URL is unset)");
        }
        Box::pin(async { Ok(()) })
    }
}

/// Sends mail through an SMTP relay (`smtp://`, `smtps://`; see lettre's URL format).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A mailer for the relay at `url`, sending as `from`.
    pub fn new(url: &str, from: &str) -> Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| Error::Internal(anyhow::anyhow!("SMTP_URL is not usable: {e}")))?
            .build();
        let from = from
            .parse()
            .map_err(|e| Error::Internal(anyhow::anyhow!("MAIL_FROM is not an address: {e}")))?;
        Ok(Self { transport, from })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let to: Mailbox = mail
                .to
                .parse()
                .map_err(|e| Error::Internal(anyhow::anyhow!("bad recipient: {e}")))?;
            let message = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(mail.subject)
                .body(mail.body)
                .map_err(|e| Error::Internal(e.into()))?;
            self.transport
                .send(message)
                .await
                .map_err(|e| Error::Internal(e.into()))?;
            Ok(())
        })
    }
}

/// Keeps sent messages in memory, for tests and embedding.
#[derive(Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Mail>>,
}

impl MemoryMailer {
    /// Every message sent so far.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl Mailer for MemoryMailer {
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<()>> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(mail);
        }
        Box::pin(async { Ok(()) })
    }
}
