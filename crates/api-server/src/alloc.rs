//! The C allocator's settings, applied before the runtime starts its threads.
//!
//! glibc's `malloc` gives every thread that contends for it an arena of its own, up to eight
//! per core, and an arena keeps the memory freed in it. The server's threads (HTTP workers,
//! runtime workers, blocking-pool threads) each ended up with one: measured on the release
//! build (`tests/bench/files.sh` set-up, idle after a login), the anonymous memory was
//! 16.4 MiB with the default, 12.5 MiB with two arenas and 10.2 MiB with one, while the
//! heap in use (heaptrack) was ~4.3 MiB. Small allocations are served by each thread's
//! cache (tcache) without the arena's lock, so fewer arenas cost little; a different
//! allocator did not help (mimalloc 18.4 MiB, jemalloc 19.1 MiB in the same run).

/// Arenas when `MALLOC_ARENA_MAX` does not say otherwise.
pub const DEFAULT_ARENAS: i32 = 2;

/// Caps glibc's arenas at [`DEFAULT_ARENAS`] unless the environment sets the cap itself
/// (`MALLOC_ARENA_MAX`, or `arena_max` in `GLIBC_TUNABLES`, which glibc reads at start-up).
/// Call it before any thread is spawned; elsewhere (or with another C library) it does nothing.
pub fn cap_arenas() {
    let configured = std::env::var_os("MALLOC_ARENA_MAX").is_some()
        || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("arena_max"));
    if !configured {
        set_arena_max(DEFAULT_ARENAS);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_arena_max(arenas: i32) {
    // SAFETY: mallopt only sets a parameter of glibc's allocator (under its own lock); it
    // reads nothing but its two integer arguments.
    #[allow(unsafe_code, reason = "glibc's mallopt has no safe wrapper")]
    // A refusal (0) only leaves the default in place: memory, not correctness.
    let _ = unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max(_arenas: i32) {}
