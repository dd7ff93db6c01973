//! ACF with Bartlett intervals on realistic lengths.

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
mod reference;

fn bench(c: &mut Criterion) {
    let opts = analytics::AcfOptions::default();
    reference::bench_each(c, "autocorrelation", "acf", &reference::SERIES[..2], |x| {
        analytics::acf(x, &opts)
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
