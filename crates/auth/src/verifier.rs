//! The `TokenVerifier` the `Principal` extractor calls: an API key (`agk_…`) or a JWT
//! access token.

use kernel::{BoxFuture, Error, Principal, Result, TokenKind, TokenVerifier};

use crate::AuthService;
use crate::service::api_keys::is_api_key;

impl TokenVerifier for AuthService {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Principal>> {
        Box::pin(async move {
            if is_api_key(token) {
                return Ok(self.api_keys().authenticate(token).await?);
            }
            let claims = self.keys().verify(token)?;
            // The account is checked on every request (from the standing cache when one
            // is live): a deleted or deactivated account's token stops working at once,
            // not when it expires.
            match self.users().standing(claims.sub).await? {
                Some(standing) if standing.is_active => Ok(Principal {
                    user_id: claims.sub,
                    is_superuser: standing.is_superuser,
                    token: TokenKind::AccessToken,
                }),
                _ => Err(Error::Unauthorized("the access token is invalid or expired".into())),
            }
        })
    }
}
