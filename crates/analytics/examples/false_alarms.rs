//! Calibration of the seasonality peak test: false positives on series without a period
//! (white noise, AR(1), random walks, a level shift), 200 series per kind and length.
//!
//! `cargo run --release -p analytics --example false_alarms`
use analytics::{SeasonalityOptions, seasonality};
fn main() {
    let mut state: u64 = 0x9E3779B97F4A7C15;
    let mut unif = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut gauss = move || {
        let (u, v) = (unif(), unif());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    };
    for kind in ["white", "walk", "ar09", "ar02", "shift"] {
        for n in [100usize, 500, 1440, 4320] {
            let mut hits = 0;
            let mut maxr: f64 = 0.0;
            for _ in 0..200 {
                let mut x = Vec::with_capacity(n);
                let mut prev = 0.0;
                for t in 0..n {
                    let e = gauss();
                    let v = match kind {
                        "white" => e,
                        "walk" => prev + e,
                        "ar09" => 0.9 * prev + e,
                        "ar02" => 0.2 * prev + e,
                        _ => e + if t > n * 3 / 5 { 4.0 } else { 0.0 },
                    };
                    prev = v;
                    x.push(v);
                }
                let s = seasonality(&x, &SeasonalityOptions::default()).unwrap();
                maxr = maxr.max(s.peak_ratio / s.threshold);
                if s.period.is_some() {
                    hits += 1;
                }
            }
            println!(
                "{kind:6} n={n:5} false positives {hits:3}/200  max ratio/threshold {maxr:.2}"
            );
        }
    }
}
