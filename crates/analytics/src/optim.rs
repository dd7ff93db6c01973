//! Limited-memory BFGS with a backtracking Armijo line search (private helper).

use std::collections::VecDeque;

/// Stopping rules of [`minimize`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Maximum number of iterations.
    pub(crate) max_iter: usize,
    /// Stop when the relative decrease of the objective over one iteration is below this.
    pub(crate) f_rel_tol: f64,
    /// Stop when the largest gradient component is below this.
    pub(crate) g_tol: f64,
}

/// Minimises `f` from `x` (updated in place); `f(x, grad)` returns the value and writes
/// the gradient. Returns the final value.
pub(crate) fn minimize(
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    x: &mut [f64],
    settings: Settings,
) -> f64 {
    const MEMORY: usize = 10;
    let k = x.len();
    let mut g = vec![0.0; k];
    let mut fx = f(x, &mut g);
    let mut history: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::with_capacity(MEMORY);
    let mut d = vec![0.0; k];
    let mut x_new = vec![0.0; k];
    let mut g_new = vec![0.0; k];
    let mut small_steps = 0;
    for _ in 0..settings.max_iter {
        if !fx.is_finite() || g.iter().all(|v| v.abs() <= settings.g_tol) {
            break;
        }
        // Two-loop recursion: d = -H g.
        d.iter_mut().zip(&g).for_each(|(d, g)| *d = -g);
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &d);
            axpy(-a, y, &mut d);
            alphas.push(a);
        }
        let gamma = history
            .back()
            .map(|(s, y, _)| dot(s, y) / dot(y, y))
            .unwrap_or_else(|| 1.0 / norm_inf(&g).max(1e-12));
        d.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &d);
            axpy(a - b, s, &mut d);
        }
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            history.clear();
            let scale = 1.0 / norm_inf(&g).max(1e-12);
            d.iter_mut().zip(&g).for_each(|(d, g)| *d = -g * scale);
            slope = dot(&g, &d);
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            x_new
                .iter_mut()
                .zip(x.iter().zip(&d))
                .for_each(|(n, (x, d))| *n = x + step * d);
            let f_new = f(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= fx + 1e-4 * step * slope {
                accepted = Some(f_new);
                break;
            }
            step *= 0.5;
        }
        let Some(f_new) = accepted else { break };
        let s: Vec<f64> = x_new.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 * dot(&y, &y).sqrt() * dot(&s, &s).sqrt() {
            if history.len() == MEMORY {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        let decrease = (fx - f_new) / fx.abs().max(1e-300);
        fx = f_new;
        if decrease < settings.f_rel_tol {
            small_steps += 1;
            if small_steps >= 3 {
                break;
            }
        } else {
            small_steps = 0;
        }
    }
    fx
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}

fn norm_inf(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let mut x = [-1.2, 1.0];
        let f = minimize(
            |x, g| {
                let (a, b) = (x[0], x[1]);
                g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
                g[1] = 200.0 * (b - a * a);
                (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
            },
            &mut x,
            Settings {
                max_iter: 500,
                f_rel_tol: 0.0,
                g_tol: 1e-10,
            },
        );
        assert!(f < 1e-12, "{f}");
        assert!((x[0] - 1.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5);
    }
}
