//! ACF with Bartlett intervals on realistic lengths.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

mod common;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("autocorrelation");
    let opts = analytics::AcfOptions::default();
    for (name, x) in [
        ("acf/daily_4320", common::series("daily_add_4320")),
        ("acf/hourly_2880", common::series("hourly_add_2880")),
    ] {
        g.bench_function(name, |b| b.iter(|| analytics::acf(black_box(&x), &opts)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
