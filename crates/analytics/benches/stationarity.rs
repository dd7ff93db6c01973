//! ADF test on realistic lengths: the ndarray cross products (`adfuller/...`) against the
//! previous slice code (`adfuller_slices/...`) in the same run.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

mod common;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("stationarity");
    let opts = analytics::AdfOptions::default();
    for (name, x) in [
        ("adfuller/daily_4320", common::series("daily_add_4320")),
        ("adfuller/hourly_2880", common::series("hourly_add_2880")),
        (
            "adfuller/random_walk_3000",
            common::series("random_walk_3000"),
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| analytics::adfuller(black_box(&x), &opts))
        });
        // the previous slice code, same run: the baseline of the ndarray cross products
        let slices = name.replace("adfuller/", "adfuller_slices/");
        g.bench_function(slices, |b| {
            b.iter(|| analytics::stationarity::adfuller_slices(black_box(&x), &opts))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
