//! A counting global allocator for fuzz targets, the corpus replay test and memory benches.
//!
//! It forwards every request to the system allocator and keeps, per thread, the bytes in use,
//! the peak since the last [`measure`] started and the largest single request. Checks use it to
//! prove that no decoder or state machine allocates in proportion to a length field it has not
//! checked against the input it was given.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The allocator. A binary opts in with `#[global_allocator] static A: Meter = Meter;`.
pub struct Meter;

thread_local! {
    static IN_USE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

/// What one measured closure allocated on its thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// The largest single allocation or reallocation request, in bytes.
    pub largest: usize,
    /// The highest number of bytes in use at once above the level at the start.
    pub peak: usize,
    /// Bytes still in use at the end above the level at the start (0 when all was freed).
    pub retained: isize,
}

fn record_grow(size: usize) {
    LARGEST.with(|l| l.set(l.get().max(size)));
    IN_USE.with(|u| {
        let now = u.get().wrapping_add(size);
        u.set(now);
        PEAK.with(|p| p.set(p.get().max(now)));
    });
}

fn record_shrink(size: usize) {
    IN_USE.with(|u| u.set(u.get().wrapping_sub(size)));
}

// SAFETY: every method forwards to `System` with the caller's own arguments, so the contract
// of `GlobalAlloc` is the system allocator's; the bookkeeping touches only `const`
// thread-locals of `Cell<usize>`, which never allocate and need no destructor.
unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            record_grow(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc_zeroed`'s contract for `layout`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record_grow(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, which is `System`, with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        record_shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` with `layout`; the caller checked `new_size`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record_shrink(layout.size());
            record_grow(new_size);
        }
        new
    }
}

/// Bytes the current thread holds through the allocator right now.
pub fn in_use() -> usize {
    IN_USE.with(Cell::get)
}

/// Runs `f` and reports what it allocated on this thread.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Usage) {
    let start = in_use();
    PEAK.with(|p| p.set(start));
    LARGEST.with(|l| l.set(0));
    let result = f();
    let usage = Usage {
        largest: LARGEST.with(Cell::get),
        peak: PEAK.with(Cell::get).saturating_sub(start),
        retained: in_use().wrapping_sub(start) as isize,
    };
    (result, usage)
}

/// True when this binary installed [`Meter`] as its global allocator.
pub fn installed() -> bool {
    let (boxed, usage) = measure(|| std::hint::black_box(Box::new([0u8; 64])));
    drop(boxed);
    usage.largest >= 64
}
