//! One analysis timed on each reference series: the shared body of the per-function benches
//! (`stationarity`, `autocorrelation`, `seasonality`).

use criterion::Criterion;
use std::hint::black_box;

use crate::common;

/// The reference series, as (bench id, fixture): the ids are the ones the README's tables name.
pub(crate) const SERIES: [(&str, &str); 3] = [
    ("daily_4320", "daily_add_4320"),
    ("hourly_2880", "hourly_add_2880"),
    ("random_walk_3000", "random_walk_3000"),
];

/// Times `analysis` on each of `series` in the criterion group `group`, one bench
/// `<prefix>/<id>` a series.
pub(crate) fn bench_each<T>(
    c: &mut Criterion,
    group: &str,
    prefix: &str,
    series: &[(&str, &str)],
    analysis: impl Fn(&[f64]) -> T,
) {
    let mut g = c.benchmark_group(group);
    for (id, fixture) in series {
        let x = common::series(fixture);
        g.bench_function(format!("{prefix}/{id}"), |b| {
            b.iter(|| analysis(black_box(&x)))
        });
    }
    g.finish();
}
