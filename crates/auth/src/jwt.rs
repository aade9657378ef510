//! HS256 access tokens.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use kernel::{Error, Result};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: Uuid,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Always `access`, so no other kind of token is accepted as one.
    pub typ: String,
}

/// Signing and verification keys for access tokens.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    /// Keys from the shared HS256 secret.
    pub fn new(secret: &[u8]) -> Self {
        // Only HS256: a token claiming `none` or any other algorithm is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A signed access token for `user_id`, valid for `ttl_secs`.
    pub fn issue(&self, user_id: Uuid, ttl_secs: i64) -> Result<String> {
        let now = Utc::now().timestamp();
        let claims = AccessClaims {
            sub: user_id,
            iat: now,
            exp: now + ttl_secs,
            typ: "access".into(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| Error::Internal(e.into()))
    }

    /// The claims of a valid, unexpired access token; `Unauthorized` otherwise.
    pub fn verify(&self, token: &str) -> Result<AccessClaims> {
        let data = decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|_| Error::Unauthorized("the access token is invalid or expired".into()))?;
        if data.claims.typ != "access" {
            return Err(Error::Unauthorized("the access token is invalid or expired".into()));
        }
        Ok(data.claims)
    }
}
