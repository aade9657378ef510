//! Where the API lives: the one prefix of every domain route, and the paths built from it
//! (`Location` headers, the OAuth2 token URL, the rate-limited routes).

/// The prefix every domain crate's routes are mounted under.
pub const API_PREFIX: &str = "/api/v1";

/// The absolute path of `path`, a route below [`API_PREFIX`] (`/agents/{id}` →
/// `/api/v1/agents/{id}`).
pub fn api_path(path: &str) -> String {
    format!("{API_PREFIX}{path}")
}

/// The route below [`API_PREFIX`] that an absolute path names, if it is an API path.
pub fn below_prefix(path: &str) -> Option<&str> {
    path.strip_prefix(API_PREFIX)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_built_from_and_read_below_the_prefix() {
        assert_eq!(api_path("/agents/1"), "/api/v1/agents/1");
        assert_eq!(below_prefix("/api/v1/auth/login"), Some("/auth/login"));
        assert_eq!(below_prefix("/api/v10/auth/login"), None);
        assert_eq!(below_prefix("/health"), None);
    }
}
