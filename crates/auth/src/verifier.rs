//! The `TokenVerifier` the `Principal` extractor calls.

use kernel::{BoxFuture, Error, Principal, Result, TokenVerifier};

use crate::AuthService;

impl TokenVerifier for AuthService {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Principal>> {
        Box::pin(async move {
            let claims = self.keys().verify(token)?;
            // The account is checked on every request (from the standing cache when one
            // is live): a deleted or deactivated account's token stops working at once,
            // not when it expires.
            match self.users().standing(claims.sub).await? {
                Some(standing) if standing.is_active => Ok(Principal {
                    user_id: claims.sub,
                    is_superuser: standing.is_superuser,
                }),
                _ => Err(Error::Unauthorized("the access token is invalid or expired".into())),
            }
        })
    }
}
