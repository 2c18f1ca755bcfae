//! Image indexing applied on read: the ring keeps the device layout (row-major, `rows` rows of
//! `cols` pixels), readers get the layout they asked for.

use crate::model::Indexing;

/// How to turn the device layout into the requested one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transform {
    /// Reverse the row order.
    pub flip: bool,
    /// Swap rows and columns.
    pub transpose: bool,
}

impl Transform {
    pub fn new(native: Indexing, wanted: Indexing) -> Self {
        Transform { flip: native.from_bottom() != wanted.from_bottom(), transpose: wanted.transposed() }
    }
    pub fn is_identity(self) -> bool {
        !self.flip && !self.transpose
    }
}

/// `(rows, cols)` of a frame of `width × height` pixels under `indexing`.
pub fn dimensions(width: i64, height: i64, indexing: Indexing) -> (i64, i64) {
    if indexing.transposed() {
        (width, height)
    } else {
        (height, width)
    }
}

/// Copy one frame of `w × h` pixels of `bpp` bytes from the device layout in `src` to `dst`
/// applying `t`. Both slices are `w*h*bpp` bytes.
pub fn copy_frame(src: &[u8], dst: &mut [u8], w: usize, h: usize, bpp: usize, t: Transform) {
    let row = w * bpp;
    debug_assert_eq!(src.len(), row * h);
    debug_assert_eq!(dst.len(), row * h);
    if t.is_identity() {
        dst.copy_from_slice(src);
        return;
    }
    if !t.transpose {
        for (j, out) in dst.chunks_exact_mut(row).enumerate() {
            let sj = h - 1 - j;
            out.copy_from_slice(&src[sj * row..(sj + 1) * row]);
        }
        return;
    }
    // Transposed: output row x holds column x of the source, y from top or bottom.
    match bpp {
        1 => transpose::<1>(src, dst, w, h, t.flip),
        2 => transpose::<2>(src, dst, w, h, t.flip),
        4 => transpose::<4>(src, dst, w, h, t.flip),
        8 => transpose::<8>(src, dst, w, h, t.flip),
        _ => {
            for x in 0..w {
                for j in 0..h {
                    let sy = if t.flip { h - 1 - j } else { j };
                    let s = (sy * w + x) * bpp;
                    let d = (x * h + j) * bpp;
                    dst[d..d + bpp].copy_from_slice(&src[s..s + bpp]);
                }
            }
        }
    }
}

fn transpose<const B: usize>(src: &[u8], dst: &mut [u8], w: usize, h: usize, flip: bool) {
    const TILE: usize = 32;
    for x0 in (0..w).step_by(TILE) {
        for j0 in (0..h).step_by(TILE) {
            for x in x0..(x0 + TILE).min(w) {
                for j in j0..(j0 + TILE).min(h) {
                    let sy = if flip { h - 1 - j } else { j };
                    let s = (sy * w + x) * B;
                    let d = (x * h + j) * B;
                    let px: [u8; B] = src[s..s + B].try_into().unwrap();
                    dst[d..d + B].copy_from_slice(&px);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xyb_is_transpose_with_y_from_bottom() {
        // 3 wide, 2 tall, values = 10*y + x
        let src: Vec<u8> = vec![0, 1, 2, 10, 11, 12];
        let mut dst = vec![0u8; 6];
        copy_frame(&src, &mut dst, 3, 2, 1, Transform::new(Indexing::Rct, Indexing::Xyb));
        // rows = x, cols = y counted from the bottom
        assert_eq!(dst, vec![10, 0, 11, 1, 12, 2]);
        copy_frame(&src, &mut dst, 3, 2, 1, Transform::new(Indexing::Rct, Indexing::Xyt));
        assert_eq!(dst, vec![0, 10, 1, 11, 2, 12]);
        copy_frame(&src, &mut dst, 3, 2, 1, Transform::new(Indexing::Rct, Indexing::Rcb));
        assert_eq!(dst, vec![10, 11, 12, 0, 1, 2]);
    }
}
