//! Dense Householder QR least squares (private helper).

use crate::error::{Error, Result};

/// Householder QR of a column-major design, with `Q^T y` kept, so that every leading
/// subset of columns (nested models) can be solved from one factorisation.
#[derive(Debug)]
pub(crate) struct Qr {
    /// Upper triangle `R[i][j]` for `j >= i`, stored by column: `r[j][i]`.
    r: Vec<Vec<f64>>,
    /// `Q^T y` (length n).
    qty: Vec<f64>,
}

impl Qr {
    /// Factorises the design given by `cols` (each of length n) against `y`.
    pub(crate) fn new(mut cols: Vec<Vec<f64>>, mut y: Vec<f64>) -> Result<Self> {
        let n = y.len();
        let k = cols.len();
        if n < k || cols.iter().any(|c| c.len() != n) {
            return Err(Error::Singular);
        }
        let mut r = vec![vec![0.0; k]; k];
        for j in 0..k {
            let (done, rest) = cols.split_at_mut(j + 1);
            let v = &mut done[j];
            let norm = v[j..].iter().map(|a| a * a).sum::<f64>().sqrt();
            if norm == 0.0 || !norm.is_finite() {
                return Err(Error::Singular);
            }
            let alpha = if v[j] > 0.0 { -norm } else { norm };
            v[j] -= alpha;
            let vnorm2 = v[j..].iter().map(|a| a * a).sum::<f64>();
            // apply H = I - 2 v v^T / (v^T v) to the remaining columns and to y
            for c in rest.iter_mut() {
                let dot: f64 = v[j..].iter().zip(&c[j..]).map(|(a, b)| a * b).sum();
                let f = 2.0 * dot / vnorm2;
                for (ci, vi) in c[j..].iter_mut().zip(&v[j..]) {
                    *ci -= f * vi;
                }
            }
            let dot: f64 = v[j..].iter().zip(&y[j..]).map(|(a, b)| a * b).sum();
            let f = 2.0 * dot / vnorm2;
            for (yi, vi) in y[j..].iter_mut().zip(&v[j..]) {
                *yi -= f * vi;
            }
            r[j][j] = alpha;
            for (i, c) in rest.iter().enumerate() {
                r[j + 1 + i][j] = c[j];
            }
        }
        let scale = r.iter().enumerate().map(|(j, c)| c[j].abs()).fold(0.0, f64::max);
        if r.iter().enumerate().any(|(j, c)| c[j].abs() <= scale * 1e-13) {
            return Err(Error::Singular);
        }
        Ok(Self { r, qty: y })
    }

    /// Residual sum of squares of the model with the first `k` columns.
    pub(crate) fn ssr(&self, k: usize) -> f64 {
        self.qty[k..].iter().map(|a| a * a).sum()
    }

    /// Coefficients of the model with the first `k` columns.
    pub(crate) fn coef(&self, k: usize) -> Vec<f64> {
        let mut b = self.qty[..k].to_vec();
        for i in (0..k).rev() {
            let mut s = b[i];
            for j in i + 1..k {
                s -= self.r[j][i] * b[j];
            }
            b[i] = s / self.r[i][i];
        }
        b
    }

    /// Diagonal element `i` of `(X^T X)^{-1}` for the model with the first `k` columns.
    pub(crate) fn xtx_inv_diag(&self, i: usize, k: usize) -> f64 {
        // z = R^{-T} e_i by forward substitution; the element is |z|^2.
        let mut z = vec![0.0; k];
        for row in i..k {
            let mut s = if row == i { 1.0 } else { 0.0 };
            for col in i..row {
                s -= self.r[row][col] * z[col];
            }
            z[row] = s / self.r[row][row];
        }
        z.iter().map(|a| a * a).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_a_line_exactly() {
        let x: Vec<f64> = (0..5).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| 1.0 + 2.0 * v).collect();
        let qr = Qr::new(vec![vec![1.0; 5], x], y).unwrap();
        let b = qr.coef(2);
        assert!((b[0] - 1.0).abs() < 1e-12 && (b[1] - 2.0).abs() < 1e-12);
        assert!(qr.ssr(2) < 1e-20);
        // (X^T X)^{-1} for x = 0..4 with intercept: [[0.6, -0.2], [-0.2, 0.1]]
        assert!((qr.xtx_inv_diag(0, 2) - 0.6).abs() < 1e-12);
        assert!((qr.xtx_inv_diag(1, 2) - 0.1).abs() < 1e-12);
    }
}
