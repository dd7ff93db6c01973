//! ADF test on realistic lengths: the ndarray cross products (`adfuller/...`) against the
//! previous slice code (`adfuller_slices/...`) in the same run.

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
mod reference;

fn bench(c: &mut Criterion) {
    let opts = analytics::AdfOptions::default();
    reference::bench_each(c, "stationarity", "adfuller", &reference::SERIES, |x| {
        analytics::adfuller(x, &opts)
    });
    // the previous slice code, same run: the baseline of the ndarray cross products
    reference::bench_each(
        c,
        "stationarity",
        "adfuller_slices",
        &reference::SERIES,
        |x| analytics::stationarity::adfuller_slices(x, &opts),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
