//! Default values of the settings (safe for local use).

use super::{AppEnv, LogFormat};

pub fn app_env() -> AppEnv {
    AppEnv::Development
}
pub fn host() -> String {
    "127.0.0.1".into()
}
pub fn port() -> u16 {
    8080
}
pub fn database_url() -> String {
    "sqlite://data/agentry.db".into()
}
pub fn pool_size() -> u32 {
    10
}
pub fn lane_size() -> u32 {
    16
}
pub fn lane_per_thread() -> u32 {
    1
}
pub fn connect_timeout() -> u64 {
    5
}
pub fn yes() -> bool {
    true
}
pub fn access_ttl() -> i64 {
    15 * 60
}
pub fn refresh_ttl() -> i64 {
    30 * 24 * 3600
}
pub fn reset_ttl() -> i64 {
    3600
}
pub fn bcrypt_cost() -> u32 {
    12
}
pub fn account_cache_ttl() -> u64 {
    30
}
pub fn auth_rate() -> u32 {
    10
}
pub fn file_store_url() -> String {
    "./data/files".into()
}
pub fn file_max_bytes() -> u64 {
    20 * 1024 * 1024
}
pub fn file_quota_bytes() -> u64 {
    1024 * 1024 * 1024
}
pub fn body_limit() -> usize {
    1024 * 1024
}
pub fn idempotency_ttl() -> u64 {
    24 * 3600
}
pub fn body_read_timeout() -> u64 {
    30
}
pub fn log_format() -> LogFormat {
    LogFormat::Pretty
}
pub fn mail_from() -> String {
    "Agentry <no-reply@localhost>".into()
}
pub fn shutdown_timeout() -> u64 {
    30
}
pub fn llm_timeout() -> u64 {
    60
}
pub fn llm_retries() -> u32 {
    2
}
pub fn chat_history_limit() -> u64 {
    20
}
pub fn sse_keepalive() -> u64 {
    15
}
/// Runs wait on the model, not the CPU: a replica holds many at once, bounded by memory
/// (a few KiB per run) and by the pool, whose writes runs batch (see docs/executions.md).
pub fn execution_workers() -> usize {
    1024
}
pub fn execution_max_depth() -> u32 {
    3
}
pub fn execution_max_steps() -> u32 {
    8
}
pub fn execution_timeout() -> u64 {
    300
}
pub fn execution_action_timeout() -> u64 {
    86_400
}
pub fn tool_concurrency() -> usize {
    4
}
pub fn mcp_sessions_max() -> u64 {
    64
}
pub fn mcp_call_timeout() -> u64 {
    60
}
pub fn execution_lease() -> u64 {
    30
}
pub fn execution_poll_ms() -> u64 {
    1000
}
pub fn speech_timeout() -> u64 {
    60
}
pub fn speech_max_audio_bytes() -> usize {
    25 * 1024 * 1024
}
