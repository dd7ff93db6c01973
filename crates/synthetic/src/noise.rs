//! Stateless noise: a SplitMix64 hash of (key, timestamp, stream).

/// One SplitMix64 step, used as a 64-bit mixing function.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes: a stable, dependency-free hash for series keys.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// Uniform in `[0, 1)` from the top 53 bits of a hash.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal draw (Box-Muller) determined by `key` and `t`.
pub(crate) fn gaussian(key: u64, t: i64) -> f64 {
    let base = splitmix64(key ^ splitmix64(t as u64));
    let u1 = 1.0 - unit(splitmix64(base ^ 1)); // (0, 1]: ln is finite
    let u2 = unit(splitmix64(base ^ 2));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_is_deterministic_and_roughly_standard() {
        assert_eq!(gaussian(7, 60).to_bits(), gaussian(7, 60).to_bits());
        let draws: Vec<f64> = (0..20_000).map(|i| gaussian(42, i * 60)).collect();
        let n = draws.len() as f64;
        let mean = draws.iter().sum::<f64>() / n;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }
}
