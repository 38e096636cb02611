//! 64-byte-aligned host memory.

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

impl AlignedBuffer {
    /// A zeroed buffer of `len` bytes.
    pub fn zeroed(len: usize) -> AlignedBuffer {
        AlignedBuffer { lines: vec![Line([0; 64]); len.div_ceil(64)], len }
    }

    /// A buffer of `len` bytes for a kernel to fill: recycled from the pool when one of this
    /// size is free (its bytes are whatever the last user left), else freshly zeroed. Every
    /// kernel writes each element of its outputs, so the old contents never show.
    pub fn for_output(len: usize) -> AlignedBuffer {
        match crate::pool::take(&POOL, len.div_ceil(64)) {
            Some(lines) => AlignedBuffer { lines, len },
            None => AlignedBuffer::zeroed(len),
        }
    }

    /// A buffer holding a copy of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> AlignedBuffer {
        let mut buf = AlignedBuffer::zeroed(bytes.len());
        buf.as_bytes_mut().copy_from_slice(bytes);
        buf
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
        let mut a = AlignedBuffer::for_output(len);
        a.as_bytes_mut()[0] = 7;
        let addr = a.as_bytes().as_ptr() as usize;
        drop(a);
        // Other tests may race for the pool; retry a few sizes rather than assume.
        let b = AlignedBuffer::for_output(len);
        assert_eq!(b.len(), len);
        assert_eq!(b.as_bytes().as_ptr() as usize % 64, 0);
        if b.as_bytes().as_ptr() as usize == addr {
            assert_eq!(b.as_bytes()[0], 7, "recycled, not re-zeroed");
        }
        let small = AlignedBuffer::for_output(100);
        assert_eq!(small.as_bytes(), &[0u8; 100][..]);
    }

    #[test]
    fn buffers_are_aligned_and_zeroed() {
        for len in [0, 1, 63, 64, 65, 1000] {
            let b = AlignedBuffer::zeroed(len);
            assert_eq!(b.as_bytes().len(), len);
            assert_eq!(b.as_bytes().as_ptr() as usize % 64, 0);
            assert!(b.as_bytes().iter().all(|&x| x == 0));
        }
    }
}
