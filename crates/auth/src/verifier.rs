//! The `TokenVerifier` the `Principal` extractor calls.

use kernel::{BoxFuture, Error, Principal, Result, TokenVerifier};

use crate::AuthService;

impl TokenVerifier for AuthService {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Principal>> {
        Box::pin(async move {
            let claims = self.keys().verify(token)?;
            // The user is loaded on every request: a deleted or deactivated account's
            // token stops working at once, not when it expires.
            match self.users().find(claims.sub).await? {
                Some(user) if user.is_active => Ok(Principal {
                    user_id: user.id,
                    is_superuser: user.is_superuser,
                }),
                _ => Err(Error::Unauthorized("the access token is invalid or expired".into())),
            }
        })
    }
}
