# Agentry task runner (https://just.systems). `just --list` shows every recipe.

set dotenv-load := false

pg_url := env_var_or_default("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
shared_bench := env_var_or_default("SHARED", "../shared/bench")

# Start the server on SQLite (./data/agentry.db), echo LLM provider, Swagger UI at /docs/.
dev:
    cargo run -p api-server

# Run every test on SQLite (the README's test command).
test:
    cargo test --workspace

# Run every test on PostgreSQL (TEST_DATABASE_URL, default the local `test` database).
test-pg:
    TEST_DATABASE_URL={{pg_url}} cargo test --workspace

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    for crate in kernel users auth llm agents conversations executions secrets openai-compat speech; do cargo check -q -p $crate --no-default-features; done

# Print the OpenAPI document (for client generators) without starting the server.
openapi:
    cargo run -q -p api-server -- openapi

# Generate TypeScript and Python clients and play the README tour through them and Swagger UI.
clients:
    bash tests/clients/run.sh

# Everything CI runs.
ci:
    bash .ci/run

# Release build on PostgreSQL vs the FastAPI reference, side by side (installs wrk if missing).
bench:
    tests/bench/compare.sh

# GET /api/v1/agents/{id} and /health against the physical-limit server, side by side in one run
# (../shared/bench/limit_compare.sh: ROUNDS, DURATION, OUT, ... pass through the environment).
bench-limit:
    cargo build --release -q -p api-server
    {{shared_bench}}/limit_compare.sh

# Instructions per request under callgrind (SCENARIO=get_agent|health|users_me), with the top
# functions and the statements PostgreSQL ran per request (when pg_stat_statements is loaded).
bench-profile:
    cargo build --release -q -p api-server
    tests/bench/profile.sh

# Streamed chat under load: 1000 concurrent SSE replies from echo; time to first delta, server RSS.
bench-chat:
    tests/bench/chat.sh

# Run engine on PostgreSQL: runs completed/s end to end with claim latency, and 1000 runs in flight in one process.
bench-runs:
    tests/bench/runs.sh

# Tool runs: echo runs calling one local HTTP tool vs without, on PostgreSQL (tests/bench/tools.sh).
bench-tools:
    tests/bench/tools.sh

# OpenAI-compatible /v1 against a mock LLM: the latency and throughput Agentry adds (32 connections),
# first against a mock that waits 50 ms like a model before answering (the figure LLM gateways
# publish), then against one answering at once (CPU-bound: how the two cores are shared).
bench-openai:
    LATENCY_MS=50 tests/bench/openai.sh
    LATENCY_MS=0 tests/bench/openai.sh

# Execution WebSocket fan-out: 5000 watchers of one run; store-to-socket latency p50/p99, server RSS.
bench-ws:
    tests/bench/ws.sh

# Streamed files: 32 concurrent uploads and downloads of 10 MiB, throughput and peak RSS (tests/bench/files.sh).
bench-files:
    tests/bench/files.sh
