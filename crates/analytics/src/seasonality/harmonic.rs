//! The harmonic regression that refines the periodogram peak to a fractional bin: the
//! periodogram is only accurate to a bin, which with few cycles is several percent of the
//! period, so the detection fits a constant and a few harmonics around the peak instead.

/// Fractional DFT bin in `[bin - 1, bin + 1]` whose period best explains `d` by a harmonic
/// regression (constant plus the first [`HARMONICS`] harmonics, least squares): a grid of
/// quarter bins, then tenths of a bin around its best point, then a parabola through the best grid point and its neighbours. Unlike
/// the raw periodogram peak, this accounts for leakage from the negative frequency and the
/// harmonics, which bias the peak when the series holds only a few cycles.
pub(super) fn refine_peak(d: &[f64], bin: f64) -> f64 {
    let n = d.len() as f64;
    // coarse pass (quarter bins), then tenths of a bin around its best point
    let coarse = (-4..=4)
        .map(|i| bin + i as f64 * 0.25)
        .filter(|&b| b > 0.5)
        .map(|b| (b, explained(d, b / n)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(bin, |(b, _)| b);
    let step = 0.1;
    let grid: Vec<(f64, f64)> = (-3..=3)
        .map(|i| coarse + i as f64 * step)
        .filter(|&b| b > 0.5)
        .map(|b| (b, explained(d, b / n)))
        .collect();
    let Some(i) = (0..grid.len()).max_by(|&a, &b| grid[a].1.total_cmp(&grid[b].1)) else {
        return bin;
    };
    if i == 0 || i + 1 == grid.len() {
        return grid[i].0;
    }
    let (a, b, c) = (grid[i - 1].1, grid[i].1, grid[i + 1].1);
    let denom = a - 2.0 * b + c;
    let offset = if denom < 0.0 {
        0.5 * (a - c) / denom
    } else {
        0.0
    };
    grid[i].0 + offset.clamp(-1.0, 1.0) * step
}

/// Harmonics in the regression of [`refine_peak`].
const HARMONICS: usize = 2;

/// Sum of squares of `d` explained by a constant and `HARMONICS` harmonics of frequency `f`
/// (cycles per sample). One pass accumulates the cross products with the data; the Gram
/// matrix of the trigonometric regressors has a closed form (Dirichlet sums).
fn explained(d: &[f64], f: f64) -> f64 {
    const K: usize = 2 * HARMONICS + 1;
    let n = d.len();
    let w = 2.0 * std::f64::consts::PI * f;
    let mut rhs = [0.0; K];
    let (sin_w, cos_w) = w.sin_cos();
    let (mut c1, mut s1) = (1.0f64, 0.0f64);
    for &v in d {
        rhs[0] += v;
        let (mut c, mut s) = (c1, s1);
        for h in 0..HARMONICS {
            rhs[1 + 2 * h] += c * v;
            rhs[2 + 2 * h] += s * v;
            let c_next = c * c1 - s * s1;
            s = s * c1 + c * s1;
            c = c_next;
        }
        let c_next = c1 * cos_w - s1 * sin_w;
        s1 = s1 * cos_w + c1 * sin_w;
        c1 = c_next;
    }
    // Σ_t cos(θ t) and Σ_t sin(θ t) over t = 0..n
    let sums = |theta: f64| {
        let half = (theta / 2.0).sin();
        if half.abs() < 1e-12 {
            return (n as f64, 0.0);
        }
        let ratio = (n as f64 * theta / 2.0).sin() / half;
        let mid = (n as f64 - 1.0) * theta / 2.0;
        (ratio * mid.cos(), ratio * mid.sin())
    };
    let mut gram = [[0.0; K]; K];
    gram[0][0] = n as f64;
    for a in 1..=HARMONICS {
        let (ca, sa) = sums(a as f64 * w);
        let (ic, is) = (2 * a - 1, 2 * a);
        gram[0][ic] = ca;
        gram[ic][0] = ca;
        gram[0][is] = sa;
        gram[is][0] = sa;
        for b in 1..=HARMONICS {
            let (cp, sp) = sums((a + b) as f64 * w);
            let (cm, sm) = sums((a as f64 - b as f64) * w);
            let (jc, js) = (2 * b - 1, 2 * b);
            // cos(A)cos(B), sin(A)sin(B), cos(A)sin(B) as sums of angles
            gram[ic][jc] = 0.5 * (cm + cp);
            gram[is][js] = 0.5 * (cm - cp);
            gram[ic][js] = 0.5 * (sp - sm);
            gram[js][ic] = gram[ic][js];
        }
    }
    match solve(gram, rhs) {
        Some(beta) => beta.iter().zip(&rhs).map(|(b, r)| b * r).sum(),
        None => 0.0,
    }
}

#[expect(
    clippy::needless_range_loop,
    reason = "row operations on a small matrix"
)]
/// Solves a small dense system by Gaussian elimination with partial pivoting.
fn solve<const K: usize>(mut a: [[f64; K]; K], mut b: [f64; K]) -> Option<[f64; K]> {
    for col in 0..K {
        let pivot = (col..K).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for r in col + 1..K {
            let f = a[r][col] / a[col][col];
            for c in col..K {
                a[r][c] -= f * a[col][c];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = [0.0; K];
    for r in (0..K).rev() {
        let s: f64 = (r + 1..K).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}
