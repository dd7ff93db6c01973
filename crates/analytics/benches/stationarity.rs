//! ADF test on realistic lengths.

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
mod reference;

fn bench(c: &mut Criterion) {
    let opts = analytics::AdfOptions::default();
    reference::bench_each(c, "stationarity", "adfuller", &reference::SERIES, |x| {
        analytics::adfuller(x, &opts)
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
