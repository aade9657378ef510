//! The authenticated caller, and the port that turns a bearer token into one.

use uuid::Uuid;

use crate::{BoxFuture, Error, Result};

/// The user a request acts for, as verified from its bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The user's id.
    pub user_id: Uuid,
    /// Whether the user may use the administration routes.
    pub is_superuser: bool,
    /// What the bearer token was.
    pub token: TokenKind,
}

/// The kind of bearer token a request was authenticated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A short-lived access token from a login.
    AccessToken,
    /// A long-lived API key (`agk_…`).
    ApiKey,
}

impl Principal {
    /// Succeeds only for superusers (`403` otherwise).
    pub fn require_superuser(&self) -> Result<()> {
        if self.is_superuser {
            Ok(())
        } else {
            Err(Error::Forbidden("this operation requires a superuser".into()))
        }
    }

    /// Succeeds only for a login's access token (`403` for an API key): what manages the
    /// account's credentials or the account itself must not be reachable with a key alone.
    pub fn require_access_token(&self) -> Result<()> {
        match self.token {
            TokenKind::AccessToken => Ok(()),
            TokenKind::ApiKey => Err(Error::Forbidden(
                "an API key cannot do this: use an access token from a login".into(),
            )),
        }
    }
}

/// Verifies a bearer token (an access token or an API key) and loads the user it names
/// (implemented by `auth`).
pub trait TokenVerifier: Send + Sync + 'static {
    /// The principal of a valid token of an active, existing user; `Unauthorized` otherwise.
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Principal>>;
}

#[cfg(feature = "http")]
mod extractor {
    use std::future::Future;
    use std::pin::Pin;

    use actix_web::http::header;
    use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

    use super::{Principal, TokenVerifier};
    use crate::Error;

    /// The token of an `Authorization: Bearer <token>` header, if there is one.
    pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
        let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }

    impl FromRequest for Principal {
        type Error = Error;
        type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

        fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
            let token = bearer_token(req).map(str::to_owned);
            let verifier = req.app_data::<web::Data<dyn TokenVerifier>>().cloned();
            Box::pin(async move {
                let token = token.ok_or_else(|| Error::Unauthorized("a bearer access token is required".into()))?;
                let verifier = verifier
                    .ok_or_else(|| Error::Internal(anyhow::anyhow!("no TokenVerifier registered as app data")))?;
                verifier.verify(&token).await
            })
        }
    }
}

#[cfg(feature = "http")]
pub use extractor::bearer_token;
