//! 64-byte-aligned host memory. Allocation is fallible: running out of memory is an
//! [`AllocError`], never an abort.

use switchyard_ir::ByteCount;

/// One cache line of bytes; the unit of allocation that gives 64-byte alignment.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

// SAFETY: `Line` is `repr(C)` around a `[u8; 64]` with alignment 64, so its size is exactly 64
// with no padding, every bit pattern is valid, and all-zero is a valid value.
unsafe impl bytemuck::Zeroable for Line {}
// SAFETY: see above; `Line` is `Copy`, has no padding and no invalid bit patterns.
unsafe impl bytemuck::Pod for Line {}

/// Free large buffers (see [`crate::pool`]).
static POOL: std::sync::Mutex<Vec<Vec<Line>>> = std::sync::Mutex::new(Vec::new());

/// A host buffer whose first byte is 64-byte aligned.
#[derive(Clone)]
pub struct AlignedBuffer {
    lines: Vec<Line>,
    len: usize,
}

impl Drop for AlignedBuffer {
    fn drop(&mut self) {
        let lines = std::mem::take(&mut self.lines);
        let bytes = lines.len() * 64;
        crate::pool::give(&POOL, lines, bytes);
    }
}

/// A host allocation that failed: the system would not give `bytes` more bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocError {
    /// The size asked for.
    pub bytes: usize,
}

impl std::fmt::Display for AllocError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "out of memory: could not allocate {} ({} bytes)",
            ByteCount(self.bytes as u128),
            self.bytes
        )
    }
}

impl std::error::Error for AllocError {}

/// `lines` zeroed cache lines, or an error when the system refuses the memory. Never aborts.
fn zeroed_lines(lines: usize) -> Result<Vec<Line>, AllocError> {
    let refused = AllocError { bytes: lines.saturating_mul(64) };
    if lines == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<Line>(lines).map_err(|_| refused)?;
    // SAFETY: `layout` has a non-zero size (lines > 0 and a `Line` is 64 bytes).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<Line>();
    if ptr.is_null() {
        return Err(refused);
    }
    // SAFETY: `ptr` was allocated by the global allocator with the layout of `[Line; lines]`
    // (size `lines * 64`, the alignment of `Line`), which is what a `Vec<Line>` of capacity
    // `lines` deallocates with; its `lines` elements are initialized, since all-zero bytes are
    // a valid `Line` (`Line: Zeroable`); the Vec takes sole ownership of the allocation.
    Ok(unsafe { Vec::from_raw_parts(ptr, lines, lines) })
}

impl AlignedBuffer {
    /// A zeroed buffer of `len` bytes, or an error when the memory cannot be had (fresh pages
    /// come zeroed from the system, so a large buffer costs no pass over memory here).
    pub fn zeroed(len: usize) -> Result<AlignedBuffer, AllocError> {
        Ok(AlignedBuffer { lines: zeroed_lines(len.div_ceil(64))?, len })
    }

    /// A buffer of `len` bytes for a kernel to fill: recycled from the pool when one of this
    /// size is free (its bytes are whatever the last user left), else freshly zeroed. Every
    /// kernel writes each element of its outputs, so the old contents never show.
    pub fn for_output(len: usize) -> Result<AlignedBuffer, AllocError> {
        match crate::pool::take(&POOL, len.div_ceil(64)) {
            Some(lines) => Ok(AlignedBuffer { lines, len }),
            None => AlignedBuffer::zeroed(len),
        }
    }

    /// A buffer holding a copy of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<AlignedBuffer, AllocError> {
        let mut buf = AlignedBuffer::zeroed(bytes.len())?;
        buf.as_bytes_mut().copy_from_slice(bytes);
        Ok(buf)
    }

    /// A buffer of one cache line (64 bytes) from the allocator, for scalars: allocating 64
    /// bytes aborts only where nothing else could go on either, as for any small `Vec`.
    pub(crate) fn new_small() -> AlignedBuffer {
        AlignedBuffer { lines: vec![Line([0; 64])], len: 64 }
    }

    /// Shortens the buffer to `len` bytes (no effect when it is not longer).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the buffer holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<Line, u8>(&self.lines)[..self.len]
    }

    /// The bytes, writable.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        let len = self.len;
        &mut bytemuck::cast_slice_mut::<Line, u8>(&mut self.lines)[..len]
    }

    /// Bytes reserved (a multiple of 64).
    pub fn capacity(&self) -> usize {
        self.lines.len() * 64
    }
}

impl std::fmt::Debug for AlignedBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlignedBuffer({} bytes)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_are_recycled_by_exact_size() {
        let len = crate::pool::MIN_POOLED_BYTES * 3 + 5;
        let mut a = AlignedBuffer::for_output(len).unwrap();
        a.as_bytes_mut()[0] = 7;
        let addr = a.as_bytes().as_ptr() as usize;
        drop(a);
        // Other tests may race for the pool; retry a few sizes rather than assume.
        let b = AlignedBuffer::for_output(len).unwrap();
        assert_eq!(b.len(), len);
        assert_eq!(b.as_bytes().as_ptr() as usize % 64, 0);
        if b.as_bytes().as_ptr() as usize == addr {
            assert_eq!(b.as_bytes()[0], 7, "recycled, not re-zeroed");
        }
        let small = AlignedBuffer::for_output(100).unwrap();
        assert_eq!(small.as_bytes(), &[0u8; 100][..]);
    }

    #[test]
    fn buffers_are_aligned_and_zeroed() {
        for len in [0, 1, 63, 64, 65, 1000] {
            let b = AlignedBuffer::zeroed(len).unwrap();
            assert_eq!(b.as_bytes().len(), len);
            assert_eq!(b.as_bytes().as_ptr() as usize % 64, 0);
            assert!(b.as_bytes().iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn an_impossible_allocation_is_an_error_not_an_abort() {
        // 2^62 bytes: no machine has that much memory, and the allocator says so.
        let err = AlignedBuffer::zeroed(1 << 62).unwrap_err();
        assert_eq!(err.bytes, 1 << 62);
        assert_eq!(err.to_string(), "out of memory: could not allocate 4.0 EiB (4611686018427387904 bytes)");
        assert!(AlignedBuffer::zeroed(usize::MAX).is_err());
    }
}
