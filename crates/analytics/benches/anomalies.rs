//! Anomalies: the changepoints of one series of three days (4,320 points) and the outliers
//! among 100 such series of one metric name, against the one-pass `aggregates` baseline of one
//! series. The series are the planted cases of `tests/anomalies.rs`.

use analytics::anomalies::{
    ChangepointOptions, OutlierMethod, OutlierOptions, changepoints, outliers,
};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

#[path = "../tests/anomalies/planted.rs"]
mod planted;

fn bench(c: &mut Criterion) {
    // Seed 0: daily cycle, one level shift and one trend turn.
    let case = planted::change_case(0);
    let fleet = planted::fleet(0, 100, 3);
    let rows: Vec<&[f64]> = fleet.hosts.iter().map(Vec::as_slice).collect();
    let seasonal = ChangepointOptions {
        period: case.period,
        ..ChangepointOptions::default()
    };
    let mut g = c.benchmark_group("anomalies");
    g.bench_function("baseline/aggregates_4320", |b| {
        b.iter(|| analytics::aggregates(black_box(&case.values)))
    });
    g.bench_function("changepoints/daily_4320", |b| {
        b.iter(|| changepoints(black_box(&case.values), &seasonal))
    });
    g.bench_function("changepoints/no_period_4320", |b| {
        b.iter(|| changepoints(black_box(&case.values), &ChangepointOptions::default()))
    });
    for method in [OutlierMethod::Mad, OutlierMethod::Dbscan] {
        let opts = OutlierOptions {
            method,
            ..OutlierOptions::default()
        };
        let name = format!("outliers/{method:?}_100x4320").to_lowercase();
        g.bench_function(name, |b| b.iter(|| outliers(black_box(&rows), &opts)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
