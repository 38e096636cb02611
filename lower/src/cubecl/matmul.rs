//! The matmul kernel: a shared-memory tiled product, one `TILE x TILE` cube per output tile
//! and one cube layer per batch entry. Loads outside the matrices read as 0 (guarded by a
//! branch, never a `select`, which would read out of bounds), so any `m`, `k`, `n` work.
//! Products accumulate in f32 in order of `k`.

use cubecl::prelude::*;

use super::fused::push_coordinates;

/// Tile edge (a cube has `TILE * TILE` units).
pub const TILE: u32 = 16;

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
            acc += sa[(ty * tile + i) as usize] * sb[(i * tile + tx) as usize];
        }
        sync_cube();
    }
    if row < m && col < n {
        c[(z * m * n + row * n + col) as usize] = acc;
    }
}
