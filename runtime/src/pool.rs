//! A process-wide pool of large host buffers, so that running the same executable again
//! reuses memory whose pages are already mapped instead of faulting in fresh ones (for a
//! 64 MiB output that is about 20 ms of page faults per call on this machine).
//!
//! Only buffers of at least [`MIN_POOLED_BYTES`] are pooled; at most [`MAX_POOLED_BYTES`]
//! are held, in at most [`MAX_POOLED_BUFFERS`] buffers. Reuse is by exact size.

use std::sync::Mutex;

/// Smaller buffers come from the allocator directly (it already reuses them well).
pub const MIN_POOLED_BYTES: usize = 1 << 20;
/// The most memory the pool holds.
pub const MAX_POOLED_BYTES: usize = 1 << 30;
/// The most buffers the pool holds.
pub const MAX_POOLED_BUFFERS: usize = 16;

/// A free buffer of exactly `lines` cache lines, if the pool has one.
pub(crate) fn take<T: Send + 'static>(pool: &Mutex<Vec<Vec<T>>>, len: usize) -> Option<Vec<T>> {
    let mut p = pool.lock().unwrap_or_else(|e| e.into_inner());
    let i = p.iter().position(|v| v.len() == len)?;
    Some(p.swap_remove(i))
}

/// Returns a buffer to the pool, or drops it when the pool is full.
pub(crate) fn give<T: Send + 'static>(pool: &Mutex<Vec<Vec<T>>>, buf: Vec<T>, bytes: usize) {
    if bytes < MIN_POOLED_BYTES {
        return;
    }
    let mut p = pool.lock().unwrap_or_else(|e| e.into_inner());
    let held: usize = p.iter().map(|v| v.len() * std::mem::size_of::<T>()).sum();
    if p.len() < MAX_POOLED_BUFFERS && held + bytes <= MAX_POOLED_BYTES {
        p.push(buf);
    }
}
