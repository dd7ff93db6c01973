//! How likely a predicted value is to be out of range, from the prediction's 95% bounds.
//!
//! The model: the forecast error at each point is normal, centred on the point forecast, with
//! the standard deviation that makes `[lower, upper]` its central 95% interval,
//! `sigma = (upper - lower) / (2 * 1.96)`. Then
//! `P(out of range) = P(X < min) + P(X > max) = Phi((min - v) / sigma) + 1 - Phi((max - v) / sigma)`.

use analytics::special::norm_cdf;

/// The z-score of a central 95% interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// The probability that the true value is outside `[min, max]` when the forecast is `value`
/// with 95% bounds `[lower, upper]`. Without a usable interval (zero, negative or not finite
/// width) the forecast is taken as certain: 1 when it is out of range, else 0.
pub fn out_of_range_probability(value: f64, lower: f64, upper: f64, min: f64, max: f64) -> f64 {
    let sigma = (upper - lower) / (2.0 * Z_95);
    if !(sigma.is_finite() && sigma > 0.0 && value.is_finite()) {
        return if min <= value && value <= max {
            0.0
        } else {
            1.0
        };
    }
    let below = norm_cdf((min - value) / sigma);
    let above = 1.0 - norm_cdf((max - value) / sigma);
    (below + above).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_matches_tables() {
        for (x, expected) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (-1.0, 0.158_655_254),
            (1.96, 0.975_002_105),
            (-3.0, 0.001_349_898),
        ] {
            assert!(
                (norm_cdf(x) - expected).abs() < 2e-7,
                "Phi({x}) = {}",
                norm_cdf(x)
            );
        }
    }

    #[test]
    fn probability_uses_the_bounds_as_a_95_percent_interval() {
        // sigma = 0.1: the value is one sigma above the max.
        let p = out_of_range_probability(0.6, 0.6 - Z_95 * 0.1, 0.6 + Z_95 * 0.1, 0.05, 0.5);
        assert!((p - 0.841_344_746).abs() < 1e-6, "{p}");
        // At the max exactly: a coin toss (plus the far lower tail, about 5e-6).
        let p = out_of_range_probability(0.5, 0.3, 0.7, 0.05, 0.5);
        assert!((p - 0.5).abs() < 1e-5 && p > 0.5, "{p}");
        // Both tails count: a wide interval around a narrow range is almost surely out.
        assert!(out_of_range_probability(0.0, -100.0, 100.0, -0.1, 0.1) > 0.99);
    }

    #[test]
    fn a_degenerate_interval_is_certain() {
        assert_eq!(out_of_range_probability(2.0, 2.0, 2.0, 0.0, 1.0), 1.0);
        assert_eq!(out_of_range_probability(0.5, 0.5, 0.5, 0.0, 1.0), 0.0);
        assert_eq!(out_of_range_probability(0.5, f64::NAN, 1.0, 0.0, 1.0), 0.0);
    }
}
