//! The matmul kernel: a shared-memory tiled product, one `TILE x TILE` cube per output tile
//! and one cube layer per batch entry. Loads outside the matrices read as 0 (guarded by a
//! branch, never a `select`, which would read out of bounds), so any `m`, `k`, `n` work.
//! Products accumulate in f32 in order of `k` (`fma`, which the driver may or may not fuse:
//! lavapipe does not).
//!
//! The reference forms exact products and sums them in f64, so its result is NaN or infinite
//! only through NaN or infinite operands, and otherwise is the rounding of a finite sum. An
//! f32 sum also goes infinite or NaN when a product or a partial sum overflows (`inf - inf`),
//! so an element whose sum is not finite is computed again, alone ([`exact_specials`]); sums
//! that stay finite, by far the common case, cost nothing more.

use cubecl::prelude::*;

use super::elementwise::is_finite;
use super::fused::push_coordinates;
use super::limits::TILE;

/// `c[z] = a[ma(z)] @ b[mb(z)]` for every batch index `z` (`CUBE_POS_Z`), where the matrix
/// numbers `ma`, `mb` are `z`'s coordinates in `batch` times `a_strides`, `b_strides`
/// (broadcast batch axes have stride 0).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn matmul_kernel(
    a: &Array<f32>,
    b: &Array<f32>,
    c: &mut Array<f32>,
    batch: &Sequence<u32>,
    a_strides: &Sequence<u32>,
    b_strides: &Sequence<u32>,
    m: u32,
    k: u32,
    n: u32,
    scale_down: f32,
    scale_up: f32,
    #[comptime] batch_rank: usize,
    #[comptime] tile: u32,
) {
    let tx = UNIT_POS_X;
    let ty = UNIT_POS_Y;
    let row = CUBE_POS_Y * tile + ty;
    let col = CUBE_POS_X * tile + tx;
    let z = CUBE_POS_Z;
    let mut coords = Sequence::<u32>::new();
    push_coordinates(&mut coords, z, batch, 0usize, batch_rank);
    let mut ma = 0u32;
    let mut mb = 0u32;
    #[unroll]
    for d in 0..batch_rank {
        let coord = coords[comptime![batch_rank - 1 - d]];
        ma += coord * a_strides[d];
        mb += coord * b_strides[d];
    }
    let a_base = ma * m * k;
    let b_base = mb * k * n;

    let mut sa = SharedMemory::<f32>::new(comptime![(tile * tile) as usize]);
    let mut sb = SharedMemory::<f32>::new(comptime![(tile * tile) as usize]);
    let mut acc = 0.0f32;
    let tiles = k.div_ceil(tile);
    for t in 0..tiles {
        let ka = t * tile + tx;
        let mut va = 0.0f32;
        if row < m && ka < k {
            va = a[(a_base + row * k + ka) as usize];
        }
        sa[(ty * tile + tx) as usize] = va;
        let kb = t * tile + ty;
        let mut vb = 0.0f32;
        if kb < k && col < n {
            vb = b[(b_base + kb * n + col) as usize];
        }
        sb[(ty * tile + tx) as usize] = vb;
        sync_cube();
        #[unroll]
        for i in 0..tile {
            acc = fma(sa[(ty * tile + i) as usize], sb[(i * tile + tx) as usize], acc);
        }
        sync_cube();
    }
    if row < m && col < n {
        let mut out = acc;
        if !is_finite(acc) {
            out = exact_specials(a, b, a_base + row * k, b_base + col, k, n, scale_down, scale_up);
        }
        c[(z * m * n + row * n + col) as usize] = out;
    }
}

/// `2^-70`, by which the slow path scales both operands of a finite product: the product is
/// then at most `2^116`, and a scaled partial sum overflows only beyond `2^268` unscaled,
/// which takes more than `2^12` near-maximal products (and is beyond f32 then anyway). It is
/// passed as a run-time scalar, like [`SCALE_UP`]: as constants, the driver may fold
/// `(s * 2^70) * 2^70` into `s * inf` (Vulkan allows reassociating float operations, and
/// lavapipe does).
pub(crate) const SCALE_DOWN: f32 = 8.470_329_5e-22;
/// `2^70`.
pub(crate) const SCALE_UP: f32 = 1.180_591_6e21;

/// One element again, in order of `k`, for a sum that came out infinite or NaN. Products
/// with a non-finite operand are summed on their own (`inf * 0` is NaN, opposite infinities
/// give NaN: as in f64, whatever the order); the finite products are summed with both
/// operands scaled by `down` (`2^-70`), so that no partial sum overflows, and the sum is
/// scaled back by `up` twice (exact, or an overflow to ±inf where the true sum is beyond f32).
/// Scaling loses only bits of products below `2^14` and of operands below `2^-56`, nothing
/// next to the `2^128` that some partial sum reached (or there would be no slow path).
#[cube]
#[allow(clippy::too_many_arguments)]
fn exact_specials(
    a: &Array<f32>,
    b: &Array<f32>,
    a_row: u32,
    b_col: u32,
    k: u32,
    n: u32,
    down: f32,
    up: f32,
) -> f32 {
    let mut special = 0.0f32;
    let mut scaled = 0.0f32;
    // TILE products per iteration, so that this loop and the tiled one stay within lavapipe's
    // loop budget (`limits::MAX_K`).
    let steps = k.div_ceil(TILE);
    for step in 0..steps {
        #[unroll]
        for i in 0..TILE {
            let p = step * TILE + i;
            if p < k {
                let x = a[(a_row + p) as usize];
                let y = b[(b_col + p * n) as usize];
                if is_finite(x) && is_finite(y) {
                    scaled += (x * down) * (y * down);
                } else {
                    special += x * y;
                }
            }
        }
    }
    let mut out = (scaled * up) * up;
    if !is_finite(special) {
        out = special;
    }
    out
}
