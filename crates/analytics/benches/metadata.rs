//! What `etl` runs per series: full metadata of three days (4,320 points) and the
//! prediction of two days (2,880 points, period 60), against a one-pass baseline.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

mod common;

fn bench(c: &mut Criterion) {
    let daily = common::series("daily_add_4320");
    let hourly = common::series("hourly_add_2880");
    let opts = analytics::MetadataOptions::default();
    let mut g = c.benchmark_group("metadata");
    g.bench_function("baseline/aggregates_4320", |b| {
        b.iter(|| analytics::aggregates(black_box(&daily)))
    });
    g.bench_function("metadata/daily_4320", |b| {
        b.iter(|| analytics::metadata(black_box(&daily), &opts))
    });
    g.bench_function("metadata/hourly_2880", |b| {
        b.iter(|| analytics::metadata(black_box(&hourly), &opts))
    });
    g.bench_function("predict/hourly_2880_p60", |b| {
        b.iter(|| analytics::predict(black_box(&hourly), Some(60), 10))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
