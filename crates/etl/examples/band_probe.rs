//! How far the noise-free signal of `synthetic_seasonal` falls outside the forecast's 95% band,
//! over one day of start minutes: the bound behind the band check of
//! `tests/api/cycles.rs` (`one_fast_and_one_slow_cycle_produce_the_expected_records`).
//!
//! `cargo run -p etl --example band_probe -- [EVERY_MINUTES (2)]`: for each start minute, the
//! 12 h of history the fast loop reads (one value a minute), the forecast with period 60 and a
//! horizon of 10, and the furthest step outside the band, in units of the band's half-width.
//! Prints the start minutes where the signal left the band, and the worst of all.

fn main() {
    let every: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("EVERY_MINUTES is a whole number"))
        .unwrap_or(2);
    let data = synthetic::Dataset::new(synthetic::Config::new(1_796_700_000));
    let seasonal = data
        .series_named("synthetic_seasonal")
        .expect("always present");
    let signal = |t: i64| {
        let t = t as f64;
        100.0
            + 20.0 * (std::f64::consts::TAU * t / 86_400.0).sin()
            + 5.0 * (std::f64::consts::TAU * t / 3_600.0).sin()
    };
    let midnight: i64 = 1_796_688_000;
    let (mut outside, mut starts, mut worst) = (0, 0, 0.0_f64);
    for minute in (0..1440).step_by(every) {
        let end = midnight + minute * 60;
        let history: Vec<f64> = (0..=720)
            .rev()
            .map(|k| seasonal.value(end - 60 * k))
            .collect();
        let forecast = analytics::predict(&history, Some(60), 10).expect("a forecast");
        let furthest = (0..10)
            .map(|k| {
                let s = signal(end + 60 * (k as i64 + 1));
                let half_width = (forecast.upper[k] - forecast.lower[k]) / 2.0;
                (forecast.lower[k] - s).max(s - forecast.upper[k]) / half_width
            })
            .fold(f64::NEG_INFINITY, f64::max);
        starts += 1;
        if furthest > 0.0 {
            outside += 1;
            println!("minute {minute}: outside by {furthest:.3} of the half-width");
        }
        worst = worst.max(furthest);
    }
    println!(
        "{outside} of {starts} start minutes put the signal outside the band; worst {worst:.3} of the half-width"
    );
}
