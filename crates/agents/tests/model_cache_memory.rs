//! What the model cache holds after it forgets: nothing of the forgotten owners. Counted by
//! an allocator that tracks the bytes each thread has live, so that this binary's other
//! threads do not count.
#![allow(unsafe_code, reason = "a global allocator is an unsafe trait; it forwards to System")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use agents::ModelCache;
use agents::ModelMatch;
use kernel::invalidation::Follower;
use uuid::Uuid;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

struct Counting;

fn count(delta: isize) {
    // `try_with`: a thread's allocations after its locals are gone are not counted.
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

fn size(layout: Layout) -> isize {
    isize::try_from(layout.size()).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded to `System` unchanged; the counting touches a
// thread-local `Cell` (const-initialized, no destructor), which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(size(layout));
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-size(layout));
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(isize::try_from(new_size).unwrap_or(isize::MAX) - size(layout));
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

#[test]
fn forgetting_owners_leaves_nothing_behind() {
    let cache = ModelCache::new(32 * 1024 * 1024, Duration::from_secs(60), true);
    let kept = Uuid::now_v7();
    cache.keep(kept, "m", ModelMatch::Several, cache.epoch());
    // What the cache allocates once, on its first uses (~69 KB here), is not counted.
    for _ in 0..1_000 {
        let owner = Uuid::now_v7();
        cache.keep(owner, "m", ModelMatch::Several, cache.epoch());
        cache.forget(owner);
        cache.forget(Uuid::now_v7());
    }

    // Every agent written forgets its owner, whether or not the cache holds anything of
    // theirs (creating agents reads nothing from it).
    let before = live();
    for _ in 0..10_000 {
        cache.forget(Uuid::now_v7());
    }
    let grown = live() - before;

    assert!(grown < 16 * 1024, "10,000 forgotten owners left {grown} bytes behind");

    // Owners kept and forgotten in turn.
    let before = live();
    for _ in 0..10_000 {
        let owner = Uuid::now_v7();
        cache.keep(owner, "m", ModelMatch::Several, cache.epoch());
        cache.forget(owner);
    }
    let grown = live() - before;
    assert!(
        grown < 64 * 1024,
        "10,000 owners kept and forgotten left {grown} bytes behind"
    );

    assert_eq!(
        cache.get(kept, "m"),
        Some(ModelMatch::Several),
        "the owner not forgotten stays"
    );
}
