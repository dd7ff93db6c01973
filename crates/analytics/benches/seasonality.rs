//! Period detection on realistic lengths.

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
mod reference;

fn bench(c: &mut Criterion) {
    let opts = analytics::SeasonalityOptions::default();
    reference::bench_each(c, "seasonality", "seasonality", &reference::SERIES, |x| {
        analytics::seasonality(x, &opts)
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
